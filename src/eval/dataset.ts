/**
 * The evaluation questions file: JSON Lines, one question per line, checked strictly so a
 * typo in the gold data shows up as a clear message instead of as a silently lower score.
 * Fields the evaluation does not use (a quiz's own "source" or "category") are ignored and
 * listed in one warning; one that looks like a misspelt field name ("asked_on") is an error.
 */
import fs from 'node:fs';
import { z } from 'zod';
import type { Turn } from '../types.js';
import { SUPPORTED_EXTENSIONS } from '../articles/files.js';
import { UserError } from '../util/errors.js';
import { likelyMeant } from '../util/text.js';

const questionSchema = z.object({
  id: z.string().trim().min(1),
  question: z.string().trim().min(1),
  /** Short gold answer, matched loosely against answer text. */
  answer: z.string().trim().min(1).optional(),
  /** Gold evidence: article ids (path without extension), file names (path with it) or article URLs. */
  articles: z.array(z.string().trim().min(1)).default([]),
  /** Verbatim (whitespace-normalised) fragment of a gold article that supports the answer. */
  quote: z.string().trim().min(1).optional(),
  /** Id of the question this one follows up on; it only makes sense after that one. */
  follow_up_of: z.string().trim().min(1).optional(),
  /** True when no article answers it: the right reply is "not covered". */
  unanswerable: z.boolean().optional(),
  /** The question's language (ISO 639-1, "ru"): the report gives Hit@5 and MRR per language. */
  lang: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z]{2,3}$/, 'must be an ISO 639-1 language code such as "en" or "ru"')
    .optional(),
  /** When the question was asked (ISO date or date-time): "this week" and "recently" count from it. */
  asked_at: z
    .string()
    .trim()
    .refine((v) => parseAskedAt(v) !== null, { message: 'must be an ISO date (YYYY-MM-DD) or date-time' })
    .optional(),
});

const KNOWN_FIELDS = Object.keys(questionSchema.shape);

/** An `asked_at` value as a Date; a bare date means noon UTC that day. Null when it is not a valid ISO date. */
export function parseAskedAt(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(T.+)?$/.exec(value);
  if (!m) return null;
  const d = new Date(m[4] ? value : `${value}T12:00:00Z`);
  if (Number.isNaN(d.getTime())) return null;
  // Date.parse rolls 2024-02-30 over to March; a real date reads back the same.
  return d.toISOString().slice(0, 10) === `${m[1]}-${m[2]}-${m[3]}` || m[4] ? d : null;
}

/** When a question was asked: its own `asked_at`, else that of the question it follows up on. */
export function askedAt(q: EvalQuestion, byId: ReadonlyMap<string, EvalQuestion>): Date | undefined {
  const visited = new Set<string>();
  let cur: EvalQuestion | undefined = q;
  while (cur && !visited.has(cur.id)) {
    if (cur.asked_at !== undefined) return parseAskedAt(cur.asked_at) ?? undefined;
    visited.add(cur.id);
    cur = cur.follow_up_of !== undefined ? byId.get(cur.follow_up_of) : undefined;
  }
  return undefined;
}

/** One question as written in the questions file. */
export type EvalQuestion = z.infer<typeof questionSchema>;

/** A parsed, cross-checked questions file. */
export interface EvalDataset {
  file: string;
  questions: EvalQuestion[];
  /** Problems that did not stop the run (fields the evaluation ignores), one line each. */
  warnings: string[];
}

/** True when the question has gold evidence to be ranked against. */
export function isAnswerable(q: EvalQuestion): boolean {
  return q.unanswerable !== true && q.articles.length > 0;
}

/**
 * Parses questions JSONL text. Throws `UserError` naming the line of the first problem:
 * bad JSON, misspelt or missing fields, duplicate ids, a follow-up of a later or unknown
 * question, or an unanswerable question that lists gold articles.
 */
export function parseQuestions(text: string, file = 'questions'): EvalDataset {
  const questions: EvalQuestion[] = [];
  const seen = new Set<string>();
  const ignored = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('//')) return;
    const where = `${file}:${i + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new UserError(`${where}: not valid JSON. Each line must be one JSON object.`);
    }
    for (const field of unknownFields(json)) {
      const meant = misspeltField(field);
      if (meant) throw new UserError(`${where}: unknown field "${field}"; did you mean "${meant}"?`);
      ignored.set(field, (ignored.get(field) ?? 0) + 1);
    }
    const parsed = questionSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'line';
      throw new UserError(`${where}: ${field}: ${issue?.message ?? 'invalid'}.`);
    }
    const q = parsed.data;
    if (seen.has(q.id)) throw new UserError(`${where}: duplicate id "${q.id}".`);
    if (q.follow_up_of !== undefined && !seen.has(q.follow_up_of)) {
      throw new UserError(`${where}: follow_up_of "${q.follow_up_of}" must name a question on an earlier line.`);
    }
    if (q.unanswerable && q.articles.length > 0) {
      throw new UserError(`${where}: an unanswerable question cannot list gold articles.`);
    }
    if (!q.unanswerable && q.articles.length === 0) {
      throw new UserError(`${where}: list the gold "articles", or mark the question "unanswerable": true.`);
    }
    seen.add(q.id);
    questions.push(q);
  });
  if (questions.length === 0) throw new UserError(`${file}: no questions found.`);
  const warnings =
    ignored.size === 0
      ? []
      : [
          `${file}: ignored field(s) the evaluation does not use: ${[...ignored].map(([f, n]) => `"${f}" (${n} line${n === 1 ? '' : 's'})`).join(', ')}. ` +
            `Known fields: ${KNOWN_FIELDS.join(', ')}.`,
        ];
  return { file, questions, warnings };
}

function unknownFields(json: unknown): string[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return [];
  return Object.keys(json).filter((k) => !KNOWN_FIELDS.includes(k));
}

/** The known field a name is a likely misspelling of, or null. */
function misspeltField(name: string): string | null {
  return likelyMeant(name, KNOWN_FIELDS);
}

/** Reads and parses a questions file; a missing file is a `UserError`. */
export function loadQuestions(file: string): EvalDataset {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`Questions file not found: ${file}. Pass --questions FILE (JSON Lines).`);
  }
  return parseQuestions(text, file);
}

/**
 * The conversation a follow-up is asked in: its chain of earlier questions, oldest first,
 * each followed by the answer given to it when `answers` has one.
 */
export function historyFor(
  q: EvalQuestion,
  byId: ReadonlyMap<string, EvalQuestion>,
  answers: ReadonlyMap<string, string> = new Map(),
): Turn[] {
  const chain: EvalQuestion[] = [];
  const visited = new Set<string>([q.id]);
  let parentId = q.follow_up_of;
  while (parentId !== undefined && !visited.has(parentId)) {
    const parent = byId.get(parentId);
    if (!parent) break;
    visited.add(parentId);
    chain.unshift(parent);
    parentId = parent.follow_up_of;
  }
  const turns: Turn[] = [];
  for (const p of chain) {
    turns.push({ role: 'user', content: p.question });
    const said = answers.get(p.id);
    if (said !== undefined) turns.push({ role: 'assistant', content: said });
  }
  return turns;
}

/**
 * Maps gold evidence to article ids: ids pass through, URLs become the id of the article
 * with that URL. Returns the unknown references so the caller can report them.
 */
export function resolveGold(
  refs: readonly string[],
  articles: readonly { id: string; url: string | null }[],
): { ids: string[]; unknown: string[] } {
  const ids = new Set(articles.map((a) => a.id));
  const byUrl = new Map<string, string>();
  for (const a of articles) if (a.url) byUrl.set(normaliseUrl(a.url), a.id);
  const out: string[] = [];
  const unknown: string[] = [];
  for (const ref of refs) {
    const id = ids.has(ref) ? ref : /^https?:\/\//i.test(ref) ? byUrl.get(normaliseUrl(ref)) : byFileName(ref, ids);
    if (id === undefined) unknown.push(ref);
    else if (!out.includes(id)) out.push(id);
  }
  return { ids: out, unknown };
}

/** An article named by its file name ("2019-09-01-dorian.md" for the id "2019-09-01-dorian"), or undefined. */
function byFileName(ref: string, ids: ReadonlySet<string>): string | undefined {
  const ext = SUPPORTED_EXTENSIONS.find((e) => ref.toLowerCase().endsWith(e));
  const id = ext ? ref.slice(0, -ext.length) : undefined;
  return id !== undefined && ids.has(id) ? id : undefined;
}

function normaliseUrl(url: string): string {
  try {
    const u = new URL(url);
    u.hash = '';
    return decodeURIComponent(u.toString()).replace(/\/$/, '').toLowerCase();
  } catch {
    return url.trim().toLowerCase();
  }
}
