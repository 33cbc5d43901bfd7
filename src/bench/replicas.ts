/**
 * The replica rows of the `pg-retrieval` section (issue #20): with the section's PostgreSQL index
 * published, `replicas` app processes (the real `createApp`, lexical retrieval, following new
 * generations as `npm start` does) reach the database through a TCP proxy on 127.0.0.1. Measured:
 * - cold start: from forking the process to its first answered question, and its memory then;
 * - a new generation: an incremental index run adding one article (what `/add` and a `/reindex`
 *   after a feed run both do), from the moment it is published until every replica's answers
 *   cite the new article;
 * - a database outage: the proxy drops every connection and refuses new ones for `outageMs`
 *   while every replica asks questions one after another; questions asked during the outage
 *   count as served or refused, and how long after the database came back each replica
 *   answered again.
 * Replicas start one after another, so each cold start has the machine to itself.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { approximateTokenCounter } from '../embedding/index.js';
import { indexArticles } from '../library/pipeline.js';
import type { IndexTarget } from '../store/target.js';
import type { Article } from '../types.js';
import type { Logger } from '../util/log.js';
import { forkTs, nextMessage } from './child.js';
import type { Asked, ReplicaCommand, ReplicaReply } from './replica-child.js';
import { type SyntheticSpace, syntheticEmbedder } from './synthetic.js';
import { FlakyProxy } from './tcp-proxy.js';

/** One replica's start. */
export interface ReplicaStart {
  /** Fork → first answered question. */
  coldStartSeconds: number;
  /** Of which: fork → the published generation open (before the first question). */
  openSeconds: number;
  /** RSS after the first answer, and the peak so far. */
  rssBytes: number;
  maxRssBytes: number;
  /** Bytes of the replica's INDEX_DIR after its start (the local copy with PG_SEARCH=local). */
  diskBytes: number;
}

/** What the outage did to one replica. */
export interface ReplicaOutage {
  /** Questions asked while the database was away, answered. */
  served: number;
  /** Questions asked while the database was away, refused (with the error's first words). */
  refused: number;
  errors: Record<string, number>;
  /** From the database coming back to this replica's first answer to a question asked after it (null: none). */
  recoveredSeconds: number | null;
  maxRssBytes: number;
}

/** Results of the replica rows. */
export interface ReplicaRows {
  replicas: number;
  starts: ReplicaStart[];
  /** The incremental index run that published the new generation. */
  publishSeconds: number;
  /** Publish → each replica's first answer citing the new article (null: not within the timeout). */
  servedAfterSeconds: (number | null)[];
  outageSeconds: number;
  outage: ReplicaOutage[];
}

/** What the replica rows need. */
export interface ReplicaOptions {
  /** The database holding the section's published index (connected to directly by the writer). */
  url: string;
  replicas: number;
  workDir: string;
  config: Config;
  /** The articles of the published index (the new generation adds one to them). */
  articles: Article[];
  space: SyntheticSpace;
  seed: number;
  target: IndexTarget;
  questions: string[];
  outageMs: number;
  /** Extra environment for the replicas (e.g. a search-mode switch). */
  env?: Record<string, string>;
  logger: Logger;
  note?: (line: string) => void;
}

const START_TIMEOUT_MS = 20 * 60_000;
const SERVE_TIMEOUT_MS = 5 * 60_000;
/** The article the new generation adds: words no synthetic article has. */
const NEW_ARTICLE_WORDS = 'Quorblax zyxwetic harbour referendum';

/** Runs the replica rows. */
export async function benchReplicas(o: ReplicaOptions): Promise<ReplicaRows> {
  const note = o.note ?? (() => {});
  const { proxy, url: viaProxy } = await FlakyProxy.inFrontOf(o.url);
  const children: { child: ChildProcess; name: string }[] = [];
  try {
    const starts: ReplicaStart[] = [];
    for (let i = 0; i < o.replicas; i++) {
      note(`pg-retrieval: starting replica ${i + 1} of ${o.replicas}…`);
      const dir = path.join(o.workDir, `replica-${i}`);
      fs.mkdirSync(path.join(dir, 'articles'), { recursive: true });
      const forkedAt = Date.now();
      const child = forkTs(new URL('./replica-child.ts', import.meta.url));
      const name = `replica ${i + 1}`;
      children.push({ child, name });
      const env = {
        DATABASE_URL: viaProxy,
        EMBEDDING_PROVIDER: 'none',
        LOG_LEVEL: 'error',
        ARTICLES_DIR: path.join(dir, 'articles'),
        INDEX_DIR: path.join(dir, 'index'),
        STATE_DIR: path.join(dir, 'state'),
        ...o.env,
      };
      const ready = await ask(child, { kind: 'start', env, question: o.questions[0]! }, START_TIMEOUT_MS, name);
      if (ready.kind !== 'ready') throw new Error(`${name} did not start: ${describe(ready)}`);
      starts.push({
        coldStartSeconds: (ready.firstAnswerAt - forkedAt) / 1000,
        openSeconds: (ready.openedAt - forkedAt) / 1000,
        rssBytes: ready.rssBytes,
        maxRssBytes: ready.maxRssBytes,
        diskBytes: ready.diskBytes,
      });
    }

    note('pg-retrieval: publishing a generation with one more article…');
    const added = newArticle(o.articles.length);
    const t = performance.now();
    await indexArticles({
      indexDir: path.join(o.workDir, 'unused-index'),
      target: o.target,
      loaded: { articles: [...o.articles, added], skipped: [], warnings: [] },
      embedder: syntheticEmbedder(o.space, approximateTokenCounter, o.seed + 2),
      counter: approximateTokenCounter,
      chunking: o.config.chunking,
      hnsw: o.config.hnsw,
      batchSize: 1024,
      logger: o.logger,
    });
    const publishedAt = Date.now();
    const publishSeconds = (performance.now() - t) / 1000;
    const served = await Promise.all(
      children.map(({ child, name }) =>
        ask(
          child,
          { kind: 'await', question: NEW_ARTICLE_WORDS, articleId: added.id, timeoutMs: SERVE_TIMEOUT_MS },
          SERVE_TIMEOUT_MS + 60_000,
          name,
        ),
      ),
    );
    const servedAfterSeconds = served.map((r) => (r.kind === 'served' ? (r.at - publishedAt) / 1000 : null));

    note(`pg-retrieval: ${o.outageMs / 1000} s database outage while ${o.replicas} replicas answer…`);
    const lead = 3000;
    const tail = 7000;
    const loads = Promise.all(
      children.map(({ child, name }) =>
        ask(
          child,
          { kind: 'load', ms: lead + o.outageMs + tail, questions: o.questions },
          lead + o.outageMs + tail + SERVE_TIMEOUT_MS,
          name,
        ),
      ),
    );
    await sleep(lead);
    proxy.down();
    const downAt = Date.now();
    await sleep(o.outageMs);
    proxy.up();
    const upAt = Date.now();
    const outage = (await loads).map((r) => {
      if (r.kind !== 'load') throw new Error(`a replica's load run failed: ${describe(r)}`);
      return outageOf(r.asked, downAt, upAt, r.maxRssBytes);
    });
    return { replicas: o.replicas, starts, publishSeconds, servedAfterSeconds, outageSeconds: (upAt - downAt) / 1000, outage };
  } finally {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill();
    await proxy.stop();
  }
}

/** Served and refused among the questions asked while the database was away. */
export function outageOf(asked: readonly Asked[], downAt: number, upAt: number, maxRssBytes: number): ReplicaOutage {
  const during = asked.filter((a) => a.start >= downAt && a.start < upAt);
  const errors: Record<string, number> = {};
  for (const a of during) {
    if (a.ok) continue;
    const kind = (a.error ?? 'error').split(/[(:;]/)[0]!.trim();
    errors[kind] = (errors[kind] ?? 0) + 1;
  }
  const back = asked.find((a) => a.start >= upAt && a.ok);
  return {
    served: during.filter((a) => a.ok).length,
    refused: during.filter((a) => !a.ok).length,
    errors,
    recoveredSeconds: back ? (back.end - upAt) / 1000 : null,
    maxRssBytes,
  };
}

function newArticle(n: number): Article {
  const text = `${NEW_ARTICLE_WORDS}: the harbour town voted on Sunday. The quorblax count was published at noon.`;
  return {
    id: 'synthetic/added',
    title: `${NEW_ARTICLE_WORDS} (${n + 1})`,
    date: '2026-01-01',
    url: 'https://synthetic.example/added',
    source: 'synthetic',
    text,
    hash: `added-${n}`,
    path: 'synthetic/added.md',
  };
}

async function ask(child: ChildProcess, command: ReplicaCommand, timeoutMs: number, what: string): Promise<ReplicaReply> {
  const reply = nextMessage<ReplicaReply>(child, timeoutMs, what);
  child.send(command as never);
  const r = await reply;
  if (r.kind === 'error') throw new Error(`${what}: ${r.error}`);
  return r;
}

function describe(r: ReplicaReply): string {
  return r.kind === 'error' ? r.error : r.kind === 'timeout' ? `timed out (${r.lastError ?? 'not found'})` : r.kind;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
