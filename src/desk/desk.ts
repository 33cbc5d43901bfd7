/**
 * The editors' desk: records the questions every front end handles into the `QuestionLog`, keeps
 * the reader's feedback on them, forgets a reader on request, and turns the log into the editors'
 * views (/gaps, `npm run gaps`, the /stats figures). Knows nothing of grammY or the terminal.
 *
 * Privacy: readers and chats are stored only as HMAC-SHA256 hashes keyed with QUESTION_LOG_SECRET
 * (or, without one, a random secret created once and kept in the log's own database: then anyone
 * holding the database could test candidate ids against it, which is why the secret belongs in
 * the config). Group chats' questions are stored without the sender. Rows older than
 * QUESTION_LOG_DAYS are deleted; 0 days records nothing and deletes what is left.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Answer, Embedder } from '../types.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import { contentStems, splitWords, stem } from '../util/text.js';
import { DEFAULT_GROUPING, groupQuestions } from './grouping.js';
import { guessLanguage } from './language.js';
import type { CitedArticle, Outcome, QuestionLog, QuestionRow, Vote } from './log.js';
import { OUTCOMES } from './log.js';

export type { CitedArticle, Outcome, QuestionLog, QuestionRow, Vote } from './log.js';

const DAY = 86_400_000;
/** How often one process deletes expired rows (on a write; every replica prunes). */
const PRUNE_EVERY_MS = 60_000;
/** Most questions one /gaps or /stats groups (the newest). */
const MAX_GROUPED = 1000;
/** Question vectors kept between /gaps calls (about 1.5 KB each with a 384-dimension model). */
const MAX_CACHED_VECTORS = 20_000;

/** How the desk is set up (from Config['desk']). */
export interface DeskSettings {
  /** Days questions are kept; 0: nothing is recorded and what is stored is deleted. */
  retentionDays: number;
  /** The HMAC key for reader and chat hashes; undefined: a per-installation random one (see above). */
  secret: string | undefined;
}

/** One question as a front end reports it. */
export interface QuestionEvent {
  text: string;
  outcome: Outcome;
  /** `private`, `group`, `supergroup` or `terminal`. */
  chatType: string;
  /** The Telegram user who asked; only hashed, and only in private chats. */
  userId?: number;
  /** The Telegram chat; only hashed. */
  chatId?: number;
  answer?: Answer;
  at?: number;
}

/** A topic of questions the archive does not answer well. */
export interface GapTopic {
  /** The words the topic's questions use most. */
  label: string;
  /** Distinct readers who asked in the period (a group chat's question counts as one reader). */
  readers: number;
  /** Questions in the period. */
  count: number;
  /** Questions on the topic in the period before, of the same length. */
  previous: number;
  /** Two or three of the period's questions, as asked. */
  examples: string[];
}

/** What /gaps and `npm run gaps` show. */
export interface GapsReport {
  days: number;
  from: number;
  to: number;
  /** Questions in the period that count as gaps (not covered, answered without a source, or 👎). */
  gapQuestions: number;
  topics: GapTopic[];
}

/** The figures /stats adds. */
export interface DeskStats {
  days: number;
  total: number;
  /** Questions per UTC day (YYYY-MM-DD), oldest first, days without questions included. */
  perDay: { day: string; count: number }[];
  outcomes: Record<Outcome, number>;
  up: number;
  down: number;
  /** Most-cited articles: id, title and how many answers cited them. */
  topCited: { articleId: string; title: string; count: number }[];
  /** The most-asked topics among all questions (not only gaps). */
  topTopics: { label: string; count: number }[];
}

/** True when the row belongs under /gaps: not covered, answered without a source, or 👎. */
export function isGap(row: QuestionRow): boolean {
  return row.outcome === 'not-covered' || (row.outcome === 'answered' && row.weak) || row.vote === 'down';
}

/** The articles an answer cited, each with its passage's retrieval score. */
export function citedArticles(answer: Answer): CitedArticle[] {
  const scores = new Map(answer.passages.map((p) => [p.articleId, p.score]));
  const seen = new Set<string>();
  const out: CitedArticle[] = [];
  for (const c of answer.citations) {
    if (seen.has(c.articleId)) continue;
    seen.add(c.articleId);
    out.push({ articleId: c.articleId, title: c.title, score: scores.get(c.articleId) ?? 0 });
  }
  return out;
}

/** The question log with its rules. */
export class QuestionDesk {
  private key: Promise<Buffer> | null = null;
  private lastPrune = 0;
  private readonly vectors = new Map<string, Float32Array>();
  private vectorsOf: string | null = null;

  constructor(
    readonly log: QuestionLog,
    readonly settings: DeskSettings,
    private readonly logger: Logger = silentLogger,
    private readonly now: () => number = Date.now,
  ) {}

  /** False when QUESTION_LOG_DAYS is 0. */
  get enabled(): boolean {
    return this.settings.retentionDays > 0;
  }

  /**
   * Applies the retention now (with 0 days: deletes everything). Called at start-up. A failure
   * (the database away while a replica starts from its kept copy) is logged, not thrown: the
   * next recorded question prunes again.
   */
  async start(): Promise<void> {
    try {
      await this.prune();
    } catch (err) {
      this.lastPrune = 0;
      this.logger.warn('desk.prune_failed', { problem: errorMessage(err) });
    }
  }

  private secretKey(): Promise<Buffer> {
    this.key ??= (async () => {
      const secret = this.settings.secret ?? (await this.log.installSecret(randomBytes(32).toString('base64url')));
      return Buffer.from(secret, 'utf8');
    })();
    // A failed read (the database unreachable for a moment) is tried again by the next call, not kept.
    const key = this.key;
    key.catch(() => {
      if (this.key === key) this.key = null;
    });
    return key;
  }

  private async hash(kind: 'reader' | 'chat', id: number): Promise<string> {
    return createHmac('sha256', await this.secretKey())
      .update(`${kind}:${id}`)
      .digest('base64url')
      .slice(0, 22);
  }

  /** The keyed hash a reader is stored under. */
  readerKey(userId: number): Promise<string> {
    return this.hash('reader', userId);
  }

  /** The keyed hash a chat is stored under. */
  chatKey(chatId: number): Promise<string> {
    return this.hash('chat', chatId);
  }

  /**
   * Records a question; returns its id, or null when the log is off or could not be written (the
   * reader has their answer either way, so a failure is logged, not thrown).
   */
  async record(e: QuestionEvent): Promise<number | null> {
    if (!this.enabled) return null;
    try {
      return await this.add(e);
    } catch (err) {
      this.logger.warn('desk.record_failed', { outcome: e.outcome, error: errorMessage(err) });
      return null;
    }
  }

  private async add(e: QuestionEvent): Promise<number> {
    const answer = e.answer;
    const cited = answer && answer.mode !== 'not-covered' ? citedArticles(answer) : [];
    const outcome: Outcome = e.outcome === 'answered' && answer?.mode === 'not-covered' ? 'not-covered' : e.outcome;
    const id = await this.log.add({
      at: e.at ?? this.now(),
      text: e.text,
      chatType: e.chatType,
      outcome,
      weak: outcome === 'answered' && cited.length === 0,
      language: guessLanguage(e.text),
      // In groups the sender is not recorded at all: the question is the group's.
      reader: e.userId !== undefined && e.chatType === 'private' ? await this.readerKey(e.userId) : null,
      chat: e.chatId !== undefined ? await this.chatKey(e.chatId) : null,
      cited,
    });
    if (this.now() - this.lastPrune >= PRUNE_EVERY_MS) await this.prune();
    return id;
  }

  /** Deletes rows past the retention. */
  async prune(): Promise<number> {
    this.lastPrune = this.now();
    return this.log.prune(this.enabled ? this.now() - this.settings.retentionDays * DAY : Number.MAX_SAFE_INTEGER);
  }

  /** A vote from `chatId` on question `id` (null clears it); false when the question is not that chat's or gone. */
  async vote(id: number, chatId: number, vote: Vote | null): Promise<boolean> {
    return this.log.setVote(id, await this.chatKey(chatId), vote);
  }

  /** The one-line reason of a 👎 (cut to 200 characters). */
  async reason(id: number, chatId: number, reason: string): Promise<boolean> {
    const line = reason.replace(/\s+/g, ' ').trim().slice(0, 200);
    return line !== '' && this.log.setReason(id, await this.chatKey(chatId), line);
  }

  /** Deletes every question the reader asked in private; returns how many. */
  async forget(userId: number): Promise<number> {
    return this.log.forgetReader(await this.readerKey(userId));
  }

  /**
   * The gaps of the last `days` days grouped into topics, ranked by distinct readers, then
   * questions, then growth against the `days` before. With `embedder`, its similarity counts too.
   */
  async gaps(days: number, embedder: Embedder | null = null): Promise<GapsReport> {
    const to = this.now();
    const from = to - days * DAY;
    // Grouping is quadratic: the newest questions are the ones grouped (1,000 take about 0.5 s).
    const rows = (await this.log.between(from - days * DAY, to)).filter(isGap).slice(-MAX_GROUPED);
    const current = rows.filter((r) => r.at >= from);
    const groups = await this.group(
      rows.map((r) => r.text),
      embedder,
    );
    const topics: GapTopic[] = [];
    for (const g of groups) {
      const members = g.map((i) => rows[i]!);
      const now = members.filter((r) => r.at >= from);
      if (now.length === 0) continue;
      topics.push({
        label: labelOf(members.map((r) => r.text)),
        readers: new Set(now.map((r) => r.reader ?? `question:${r.id}`)).size,
        count: now.length,
        previous: members.length - now.length,
        examples: examplesOf(now),
      });
    }
    topics.sort((a, b) => b.readers - a.readers || b.count - a.count || b.count - b.previous - (a.count - a.previous));
    return { days, from, to, gapQuestions: current.length, topics };
  }

  private async group(texts: string[], embedder: Embedder | null): Promise<number[][]> {
    if (!embedder || texts.length === 0) return groupQuestions(texts);
    // Every /gaps page turn groups again: questions embedded once are not embedded again.
    if (this.vectorsOf !== embedder.id) {
      this.vectors.clear();
      this.vectorsOf = embedder.id;
    }
    const vectors = new Map<string, Float32Array>();
    for (const t of texts) {
      const v = this.vectors.get(t);
      if (v) vectors.set(t, v);
    }
    const missing = [...new Set(texts.filter((t) => !vectors.has(t)))];
    for (let i = 0; i < missing.length; i += 64) {
      const batch = missing.slice(i, i + 64);
      const embedded = await Promise.all(batch.map((t) => embedder.embedQuery(t)));
      for (const [j, t] of batch.entries()) vectors.set(t, embedded[j]!);
    }
    if (this.vectors.size + missing.length > MAX_CACHED_VECTORS) this.vectors.clear();
    for (const t of missing) this.vectors.set(t, vectors.get(t)!);
    return groupQuestions(texts, { ...DEFAULT_GROUPING, vectors: texts.map((t) => vectors.get(t)!) });
  }

  /** The question figures of the last `days` calendar days (UTC, today included) for /stats. */
  async stats(days: number): Promise<DeskStats> {
    const to = this.now();
    const from = to - (to % DAY) - (days - 1) * DAY;
    const rows = await this.log.between(from, to + 1);
    const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
    const perDay = new Map<string, number>();
    for (let i = 0; i < days; i++) perDay.set(dayOf(from + i * DAY), 0);
    const cited = new Map<string, { articleId: string; title: string; count: number }>();
    let up = 0;
    let down = 0;
    for (const r of rows) {
      outcomes[r.outcome]++;
      perDay.set(dayOf(r.at), (perDay.get(dayOf(r.at)) ?? 0) + 1);
      if (r.vote === 'up') up++;
      if (r.vote === 'down') down++;
      for (const c of r.cited) {
        const e = cited.get(c.articleId) ?? { articleId: c.articleId, title: c.title, count: 0 };
        e.count++;
        cited.set(c.articleId, e);
      }
    }
    const recent = rows.slice(-MAX_GROUPED);
    const groups = groupQuestions(recent.map((r) => r.text)).filter((g) => g.length > 1);
    return {
      days,
      total: rows.length,
      perDay: [...perDay].map(([day, count]) => ({ day, count })),
      outcomes,
      up,
      down,
      topCited: [...cited.values()].sort((a, b) => b.count - a.count || a.title.localeCompare(b.title)).slice(0, 5),
      topTopics: groups.slice(0, 5).map((g) => ({ label: labelOf(g.map((i) => recent[i]!.text)), count: g.length })),
    };
  }

  close(): Promise<void> | void {
    return this.log.close();
  }
}

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The topic's name: its three most used stems, each shown as the word readers used most for it. */
export function labelOf(texts: string[]): string {
  const stems = new Map<string, number>();
  const words = new Map<string, Map<string, number>>();
  for (const t of texts) {
    for (const s of contentStems(t)) stems.set(s, (stems.get(s) ?? 0) + 1);
    for (const w of splitWords(t.toLowerCase())) {
      const forms = words.get(stem(w)) ?? new Map<string, number>();
      forms.set(w, (forms.get(w) ?? 0) + 1);
      words.set(stem(w), forms);
    }
  }
  const top = [...stems]
    .filter(([, c]) => c > 1 || texts.length === 1)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([s]) => [...(words.get(s) ?? new Map([[s, 1]]))].sort((a, b) => b[1] - a[1])[0]![0]);
  return top.length > 0 ? top.join(' · ') : (texts[0] ?? '').slice(0, 40);
}

/** Up to three distinct questions, from different readers first. */
function examplesOf(rows: QuestionRow[]): string[] {
  const out: string[] = [];
  const readers = new Set<string>();
  for (const pass of [true, false]) {
    for (const r of [...rows].reverse()) {
      if (out.length >= 3) return out;
      const text = r.text.trim();
      if (out.some((o) => o.toLowerCase() === text.toLowerCase())) continue;
      if (pass && r.reader && readers.has(r.reader)) continue;
      if (r.reader) readers.add(r.reader);
      out.push(text);
    }
  }
  return out;
}
