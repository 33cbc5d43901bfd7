/**
 * The question queue on its own (no database): at most `concurrency` run, the rest wait in
 * arrival order, the queue's size follows the measured service time, and a refusal says when
 * to ask again.
 */
import { describe, expect, it } from 'vitest';
import { QueueFullError, QuestionQueue, questionConcurrency } from '../../src/db/admission.js';

/** A task that finishes when told to. */
function task() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { run: () => done, finish };
}

describe('QuestionQueue', () => {
  it('sizes concurrency from the pool: two connections per question, two kept for the rest', () => {
    expect([1, 2, 4, 5, 10, 20].map(questionConcurrency)).toEqual([1, 1, 1, 1, 4, 9]);
  });

  it('runs at most `concurrency` at once and starts the others in arrival order', async () => {
    const q = new QuestionQueue({ concurrency: 2, maxWaitMs: 60_000 });
    const tasks = Array.from({ length: 5 }, task);
    const started: number[] = [];
    const all = tasks.map((t, i) =>
      q.run(() => {
        started.push(i);
        return t.run();
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(q.stats()).toMatchObject({ active: 2, queued: 3 });
    tasks[1]!.finish();
    await all[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const t of tasks) t.finish();
    await Promise.all(all);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(q.stats()).toMatchObject({ active: 0, queued: 0 });
  });

  it('holds as many as are served within the wait bound at the measured pace, and refuses the rest with when to retry', async () => {
    let clock = 0;
    const q = new QuestionQueue({ concurrency: 2, maxWaitMs: 10_000, initialServiceMs: 1000 }, undefined, () => clock);
    expect(q.capacity).toBe(20);
    // Questions measured at 4 s each: 10 s of waiting now serves 5.
    for (let i = 0; i < 20; i++) {
      await q.run(async () => {
        clock += 4000;
      });
    }
    expect(q.stats().serviceMs).toBeGreaterThan(3900);
    expect(q.capacity).toBe(5);
    const running = Array.from({ length: 7 }, task);
    const admitted = running.map((t) => q.run(t.run));
    expect(q.stats()).toMatchObject({ active: 2, queued: 5 });
    const refused = await q.run(async () => 'never').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueFullError);
    // Five waiting, two at a time, 4 s each: the queue has drained in 10 s.
    expect((refused as QueueFullError).retryAfterSeconds).toBe(10);
    expect((refused as Error).message).toBe(
      'Many readers are asking right now, more than I can answer at once. Please wait 10 seconds, then ask again.',
    );
    for (const t of running) t.finish();
    await Promise.all(admitted);
  });

  it('reports each wait and refusal to its observers', async () => {
    const q = new QuestionQueue({ concurrency: 1, maxWaitMs: 100, initialServiceMs: 100 });
    const seen: string[] = [];
    q.observe({
      admitted: ({ waitMs, queued }) => seen.push(`admitted ${waitMs > 0 ? 'after waiting' : 'at once'}, ${queued} left`),
      refused: ({ queued, capacity }) => seen.push(`refused at ${queued}/${capacity}`),
    });
    const a = task();
    const b = task();
    const first = q.run(a.run);
    const second = q.run(b.run);
    await expect(q.run(async () => 0)).rejects.toBeInstanceOf(QueueFullError);
    await new Promise((r) => setTimeout(r, 5));
    a.finish();
    b.finish();
    await Promise.all([first, second]);
    expect(seen).toEqual(['admitted at once, 0 left', 'refused at 1/1', 'admitted after waiting, 0 left']);
  });
});
