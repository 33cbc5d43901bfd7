/**
 * Cyrillic to Latin letters, the way English-language news spells Russian and Ukrainian names
 * (BGN/PCGN-style: Колокольцев → Kolokoltsev, Зеленский → Zelenskiy, Навальный → Navalnyy). Only
 * used to find the articles closest to a question no model can translate: names are what a
 * Cyrillic question and an English article share.
 */

const LETTERS: Record<string, string> = {
  а: 'a',
  б: 'b',
  в: 'v',
  г: 'g',
  д: 'd',
  е: 'e',
  ё: 'e',
  ж: 'zh',
  з: 'z',
  и: 'i',
  й: 'y',
  к: 'k',
  л: 'l',
  м: 'm',
  н: 'n',
  о: 'o',
  п: 'p',
  р: 'r',
  с: 's',
  т: 't',
  у: 'u',
  ф: 'f',
  х: 'kh',
  ц: 'ts',
  ч: 'ch',
  ш: 'sh',
  щ: 'shch',
  ъ: '',
  ы: 'y',
  ь: '',
  э: 'e',
  ю: 'yu',
  я: 'ya',
  // Ukrainian
  є: 'ye',
  і: 'i',
  ї: 'yi',
  ґ: 'g',
};

/** True when `text` has Cyrillic letters. */
export function hasCyrillic(text: string): boolean {
  return /\p{Script=Cyrillic}/u.test(text);
}

/** `text` with Cyrillic letters spelled in Latin ones; everything else unchanged. */
export function transliterateCyrillic(text: string): string {
  return text.replace(/\p{Script=Cyrillic}/gu, (ch) => {
    const lower = ch.toLowerCase();
    const latin = LETTERS[lower];
    if (latin === undefined) return ch;
    return ch !== lower && latin ? latin.charAt(0).toUpperCase() + latin.slice(1) : latin;
  });
}
