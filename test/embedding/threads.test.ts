import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtureModel, FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from '../support/fixture-model.js';

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
