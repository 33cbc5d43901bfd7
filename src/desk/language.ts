/**
 * A small guess at a question's language, for the question log: by script, and for Latin script
 * by the function words it uses. It names only what it recognises (English, Russian, a few other
 * scripts) and says null otherwise, rather than pretending to know.
 */
import { splitWords } from '../util/text.js';

const ENGLISH = new Set(
  (
    'the a an is are was were what who whom when where why how which did does do of in on at to for with about from and or not ' +
    'has have had will would can could should this that these those it he she they there any latest news happened happening'
  ).split(' '),
);
const RUSSIAN = new Set('и в во не что как на с со а кто где когда почему зачем ли это был была были есть по о об про из'.split(' '));

/** Scripts whose language is unambiguous enough to name from the letters alone. */
const SCRIPTS: [RegExp, string][] = [
  [/\p{Script=Hangul}/u, 'ko'],
  [/\p{Script=Hiragana}|\p{Script=Katakana}/u, 'ja'],
  [/\p{Script=Han}/u, 'zh'],
  [/\p{Script=Arabic}/u, 'ar'],
  [/\p{Script=Hebrew}/u, 'he'],
  [/\p{Script=Greek}/u, 'el'],
  [/\p{Script=Devanagari}/u, 'hi'],
  [/\p{Script=Thai}/u, 'th'],
];

/** `en`, `ru`, a script's language, or null when the text gives no clear sign. */
export function guessLanguage(text: string): string | null {
  for (const [pattern, code] of SCRIPTS) if (pattern.test(text)) return code;
  const words = splitWords(text.toLowerCase());
  if (words.length === 0) return null;
  if (/\p{Script=Cyrillic}/u.test(text)) return words.some((w) => RUSSIAN.has(w)) ? 'ru' : null;
  const english = words.filter((w) => ENGLISH.has(w)).length;
  // One function word in a short question, or a fifth of a longer one.
  return english >= 1 && english >= words.length / 5 ? 'en' : null;
}
