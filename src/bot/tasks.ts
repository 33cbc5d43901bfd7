/** Work that shutdown waits for: updates being handled and background jobs such as a reindex. */
export class TaskTracker {
  private readonly tasks = new Set<Promise<unknown>>();

  /** Registers `task` until it settles and returns it unchanged. */
  track<T>(task: Promise<T>): Promise<T> {
    this.tasks.add(task);
    const forget = () => this.tasks.delete(task);
    task.then(forget, forget);
    return task;
  }

  /** How many tasks are still running. */
  get size(): number {
    return this.tasks.size;
  }

  /** Waits until every tracked task settles or `timeoutMs` passes; true when all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.tasks.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, left)));
      await Promise.race([Promise.allSettled([...this.tasks]), timeout]);
      clearTimeout(timer);
    }
    return true;
  }
}
