/**
 * One replica of the `pg-retrieval` section's replica rows, in its own Node process: the real app
 * (`createApp` over DATABASE_URL, lexical retrieval, following the published generation the way
 * `npm start` does), driven by its parent over IPC. It reports when it answered its first question
 * (cold start is measured from the moment the parent forked it), its memory, how long until a new
 * article is in its answers, and what it answered while its database connection was cut.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createApp } from '../app.js';
import { parseConfig } from '../config/index.js';
import { errorMessage } from '../util/errors.js';
import { createLogger } from '../util/log.js';

/** What the parent sends. */
export type ReplicaCommand =
  | { kind: 'start'; env: Record<string, string>; question: string }
  | { kind: 'await'; question: string; articleId: string; timeoutMs: number }
  | { kind: 'load'; ms: number; questions: string[] }
  | { kind: 'stop' };

/** One question asked during a load run: when it was asked and answered (epoch ms), and how. */
export interface Asked {
  start: number;
  end: number;
  ok: boolean;
  error?: string;
}

/** What the child replies. */
export type ReplicaReply =
  | {
      kind: 'ready';
      firstAnswerAt: number;
      openedAt: number;
      rssBytes: number;
      maxRssBytes: number;
      chunks: number;
      /** Bytes under the replica's INDEX_DIR (its local copy of the index, when searches are local). */
      diskBytes: number;
    }
  | { kind: 'served'; at: number; asked: number }
  | { kind: 'timeout'; asked: number; lastError: string | null }
  | { kind: 'load'; asked: Asked[]; rssBytes: number; maxRssBytes: number }
  | { kind: 'error'; error: string };

/** Total size of the files under `dir` (0 when it does not exist). */
function dirBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else if (e.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

let app: Awaited<ReturnType<typeof createApp>> | null = null;

const send = (r: ReplicaReply) => process.send?.(r);
const memory = () => ({ rssBytes: process.memoryUsage.rss(), maxRssBytes: process.resourceUsage().maxRSS * 1024 });

async function handle(c: ReplicaCommand): Promise<void> {
  if (c.kind === 'start') {
    const config = parseConfig({ ...process.env, ...c.env });
    app = await createApp(config, createLogger(config.logLevel));
    const failure = await app.library.open(false);
    if (failure) throw new Error(failure.message);
    const openedAt = Date.now();
    await app.retriever.retrieve(c.question);
    const firstAnswerAt = Date.now();
    app.library.follow();
    send({
      kind: 'ready',
      firstAnswerAt,
      openedAt,
      chunks: app.library.searchIndex()?.manifest.counts.chunks ?? 0,
      diskBytes: dirBytes(config.indexDir),
      ...memory(),
    });
    return;
  }
  if (!app) throw new Error('not started');
  if (c.kind === 'await') {
    const end = Date.now() + c.timeoutMs;
    let asked = 0;
    let lastError: string | null = null;
    while (Date.now() < end) {
      asked++;
      try {
        const r = await app.retriever.retrieve(c.question);
        if (r.passages.some((p) => p.articleId === c.articleId)) {
          send({ kind: 'served', at: Date.now(), asked });
          return;
        }
      } catch (err) {
        lastError = errorMessage(err);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    send({ kind: 'timeout', asked, lastError });
    return;
  }
  if (c.kind === 'load') {
    const asked: Asked[] = [];
    const end = Date.now() + c.ms;
    for (let i = 0; Date.now() < end; i++) {
      const start = Date.now();
      try {
        await app.retriever.retrieve(c.questions[i % c.questions.length]!);
        asked.push({ start, end: Date.now(), ok: true });
      } catch (err) {
        asked.push({ start, end: Date.now(), ok: false, error: errorMessage(err).slice(0, 120) });
        // A refusal comes back at once; do not spin.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    send({ kind: 'load', asked, ...memory() });
    return;
  }
  app.close();
  process.send?.({ kind: 'stopped' }, undefined, undefined, () => process.exit(0));
}

process.on('message', (m: unknown) => {
  handle(m as ReplicaCommand).catch((err: unknown) => send({ kind: 'error', error: errorMessage(err) }));
});
