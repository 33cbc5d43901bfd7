/**
 * Which language a text is in: questions (to tell a question in another language than the
 * articles' from one in theirs) and articles (recorded at indexing, so the index knows which
 * languages it holds).
 *
 * Detection is `eld` (Nito-ELD, its "small" n-gram table): on the labelled short questions in
 * eval/languages/short-questions.jsonl (en, ru, es, de, uk, fr; 3–8 words each) it named 69 of 72
 * right, against 64 for tinyld and 34 for franc (docs/languages-and-voice.md has the numbers).
 * The table is loaded on first use (about 0.6 s and 50 MB of heap), so processes that never
 * detect a language never pay for it.
 */

/** The language assumed for articles indexed before languages were recorded: the stemmer and FTS are English. */
export const DEFAULT_COLLECTION_LANGUAGE = 'en';
/** A language holding at least this share of the articles counts as one of the collection's. */
const COLLECTION_SHARE = 0.1;
/** Article text beyond this is not needed to tell its language. */
const ARTICLE_SAMPLE_CHARS = 2000;

interface Detector {
  detect(text: string): { language: string; isReliable(): boolean };
}

let loading: Promise<Detector> | null = null;

function detector(): Promise<Detector> {
  loading ??= import('eld/small').then((m) => m.eld as Detector);
  return loading;
}

/**
 * Loads the detector now. Loading evaluates a large table synchronously (about 0.6 s); a server
 * does it before taking messages rather than stall every chat on the first question.
 */
export async function warmLanguageDetector(): Promise<void> {
  await detector();
}

/**
 * The ISO 639-1 code of the language `text` is written in, or null when the detector is not
 * sure (too short, only names or numbers): an unsure guess must not turn an English question
 * into a "foreign" one.
 */
export async function detectLanguage(text: string): Promise<string | null> {
  const sample = text.trim();
  if (!sample) return null;
  const result = (await detector()).detect(sample);
  return result.language && result.isReliable() ? result.language : null;
}

/** The language of an article, from its title and the start of its text. */
export function detectArticleLanguage(article: { title: string; text: string }): Promise<string | null> {
  return detectLanguage(`${article.title}\n${article.text.slice(0, ARTICLE_SAMPLE_CHARS)}`);
}

/**
 * The languages of a collection, most articles first, from the per-language article counts an
 * index records; languages under a tenth of the articles are left out (a stray quote or a
 * misdetected short piece is not a language of the collection). Unknown counts (an index built
 * before languages were recorded) give the default, English.
 */
export function collectionLanguages(counts: Readonly<Record<string, number>> | undefined): string[] {
  const entries = Object.entries(counts ?? {}).filter(([lang, n]) => lang !== '' && n > 0);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const kept = entries
    .filter(([, n]) => n >= total * COLLECTION_SHARE)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([lang]) => lang);
  return kept.length > 0 ? kept : [DEFAULT_COLLECTION_LANGUAGE];
}

/** Counts articles per language (unknown ones under ''), as an index records them. */
export function countLanguages(langs: Iterable<string | null | undefined>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const lang of langs) {
    const key = lang ?? '';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The primary subtag of a BCP 47 tag as Telegram gives it ("pt-br" → "pt"), or null. */
export function primaryLanguage(tag: string | null | undefined): string | null {
  const primary = tag?.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return /^[a-z]{2,3}$/.test(primary) ? primary : null;
}

/** A language's name, in English by default ("ru" → "Russian"), or in `inLanguage` ("en" in "ru" → "английский"). */
export function languageName(code: string, inLanguage = 'en'): string {
  try {
    return new Intl.DisplayNames([inLanguage], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}
