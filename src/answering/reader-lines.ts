/**
 * The answerer's lines for a reader who asks in another language than the articles', from the
 * interface's locale files (`locales/*.ftl`, the `reader-*` messages), so the terminal chat and
 * the bot say them alike. `{ $collection }` is the articles' language, named in the reader's.
 */
import { DEFAULT_LANGUAGE, SHIPPED_LANGUAGES, translator } from '../i18n/index.js';
import { languageName } from '../language/index.js';

/** Each line's message in the locale files. */
const KEYS = {
  /** With no answer model and no multilingual embedding model, instead of "not covered". */
  needsModel: 'reader-needs-model',
  /** "Not covered", when a model could search in the articles' language and found nothing. */
  notCovered: 'reader-not-covered',
  /** Heads the closest articles under `needsModel`. */
  closest: 'reader-closest',
  /** Under `needsModel` when no article comes close. */
  noneClose: 'reader-none-close',
  /** Opens an extractive answer to a question in another language. */
  untranslated: 'reader-untranslated',
} as const;

/** Languages these lines are written in: every shipped interface language. */
export const READER_LINE_LANGUAGES: readonly string[] = SHIPPED_LANGUAGES;

/** The first of `candidates` that has lines, else English. */
export function lineLanguage(...candidates: (string | null | undefined)[]): string {
  return candidates.find((c): c is string => !!c && SHIPPED_LANGUAGES.includes(c)) ?? DEFAULT_LANGUAGE;
}

/** One line in `lang` (English when it has none), with the collection's language named in it. */
export function readerLine(key: keyof typeof KEYS, lang: string, collection: string): string {
  const lines = lineLanguage(lang);
  return translator(lines)(KEYS[key], { collection: languageName(collection, lines) });
}
