import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTransformersEmbedder } from '../../src/embedding/transformers.js';
import { createLogger, type Logger } from '../../src/util/log.js';
import { ensureFixtureModel, FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from '../support/fixture-model.js';
import { fixtureAs } from './helpers.js';

const fixture = (threads: number | undefined, parallel: number, logger?: Logger) =>
  createTransformersEmbedder({
    model: FIXTURE_MODEL_ID,
    localModelDir: FIXTURE_MODELS_DIR,
    allowRemoteModels: false,
    threads,
    parallel,
    logger,
  });

/** A debug logger keeping each line's event name. */
function recording(): { logger: Logger; events: string[] } {
  const events: string[] = [];
  return {
    logger: createLogger('debug', [], (line) =>
      events.push((JSON.parse(line) as { event?: string; msg?: string }).event ?? (JSON.parse(line) as { msg?: string }).msg ?? ''),
    ),
    events,
  };
}

// EMBEDDING_THREADS reaches the ONNX session: onnxruntime starts one pool thread per intra-op
// thread beyond the caller's, so the process's thread count (Linux /proc) shows what it was given.
// In a fresh process: in the test process, other files' sessions finalised by the GC take their
// threads with them at any moment.
const linux = fs.existsSync('/proc/self/status');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Loads the fixture model once per entry of `threads` (null: not set) in one fresh process; the threads each load added. */
function threadsAdded(threads: (number | null)[]): { added: number[]; vectors: number[][] } {
  const script = `
    import fs from 'node:fs';
    import { createTransformersEmbedder } from './src/embedding/transformers.ts';
    const count = () => Number(/^Threads:\\s+(\\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
    const load = (threads) => createTransformersEmbedder({ model: ${JSON.stringify(FIXTURE_MODEL_ID)}, localModelDir: ${JSON.stringify(FIXTURE_MODELS_DIR)}, allowRemoteModels: false, threads: threads ?? undefined });
    await load(1); // whatever a first load starts once per process
    const added = [], vectors = [];
    for (const t of ${JSON.stringify(threads)}) {
      const before = count();
      const e = await load(t);
      added.push(count() - before);
      vectors.push(Array.from(await e.embedQuery('Police arrested two men after the crime.')));
    }
    process.stdout.write(JSON.stringify({ added, vectors }));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out) as { added: number[]; vectors: number[][] };
}

describe.runIf(linux)('EMBEDDING_THREADS', () => {
  beforeAll(async () => {
    await ensureFixtureModel();
  });

  it('gives the session that many threads, leaves unset loads at the default, and keeps the vectors', () => {
    const { added, vectors } = threadsAdded([1, 4, null, 3, null, 1]);
    // 1: no pool thread; 4: three; 3: two; unset: onnxruntime's default (one per core, so cores − 1), the same both times.
    expect(added[0]).toBe(0);
    expect(added[1]).toBe(3);
    expect(added[3]).toBe(2);
    expect(added[5]).toBe(0);
    expect(added[2]).toBe(added[4]);
    for (const v of vectors.slice(1)) for (let i = 0; i < v.length; i++) expect(v[i]).toBeCloseTo(vectors[0]![i]!, 5);
  });
});

describe('documents on parallel one-thread sessions (worker threads)', () => {
  const TEXTS = Array.from(
    { length: 11 },
    (_, i) => `Story ${i}: police arrested ${i + 2} men after the storm flooded the ${i % 2 ? 'city' : 'valley'}.`,
  );
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
  });
  beforeAll(async () => {
    await ensureFixtureModel();
  });

  it('gives the same vectors, in order, as one session', async () => {
    const one = await fixture(undefined, 1);
    const { logger, events } = recording();
    const two = await fixture(undefined, 2, logger);
    const a = await one.embedDocuments(TEXTS);
    // The first call starts the workers (and runs on this thread's session while they load).
    expect(await two.embedDocuments(TEXTS)).toHaveLength(TEXTS.length);
    await vi.waitFor(() => expect(events.filter((e) => e === 'embedding.worker_ready')).toHaveLength(1), { timeout: 30_000 });
    const b = await two.embedDocuments(TEXTS);
    expect(b).toHaveLength(TEXTS.length);
    expect(events).not.toContain('embedding.worker_failed');
    for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i]!.length; j++) expect(b[i]![j]).toBeCloseTo(a[i]![j]!, 5);
    // and the query still runs on the caller's session
    expect(Array.from(await two.embedQuery('storm'))).toEqual(Array.from(await one.embedQuery('storm')));
  });

  it('falls back to its own session when the workers cannot load the model', async () => {
    const root = await fixtureAs(FIXTURE_MODEL_ID);
    dirs.push(root);
    const { logger, events } = recording();
    const load = (parallel: number) =>
      createTransformersEmbedder({ model: FIXTURE_MODEL_ID, localModelDir: root, allowRemoteModels: false, parallel, logger });
    const one = await load(1);
    const two = await load(2);
    await fsp.rm(root, { recursive: true, force: true }); // the workers start on the first call and find nothing
    const a = await one.embedDocuments(TEXTS);
    await two.embedDocuments(TEXTS);
    await vi.waitFor(() => expect(events.filter((e) => e === 'embedding.worker_failed')).toHaveLength(1), { timeout: 30_000 });
    const b = await two.embedDocuments(TEXTS);
    for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i]!.length; j++) expect(b[i]![j]).toBeCloseTo(a[i]![j]!, 5);
    expect(events).not.toContain('embedding.worker_ready');
  });
});
