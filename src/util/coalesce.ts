/**
 * A job that runs one at a time and never misses a request: asking while it runs makes it run once
 * more right after (however many asked), and every asker gets the same promise. For work triggered
 * by events that may come in bursts (index changes): the last state is always looked at.
 */
export class CoalescedJob {
  private running: Promise<number> | null = null;
  private again = false;

  /** `job` returns how much it did; a throw is passed to `onError` and counts as 0. */
  constructor(
    private readonly job: () => Promise<number>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs the job now, or once more after the run in progress; resolves with the total done. */
  run(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const loop = async (): Promise<number> => {
      let done = 0;
      do {
        this.again = false;
        try {
          done += await this.job();
        } catch (err) {
          this.onError(err);
        }
      } while (this.again);
      return done;
    };
    this.running = loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Waits for the run in progress, if any. */
  async settled(): Promise<void> {
    await this.running;
  }
}
