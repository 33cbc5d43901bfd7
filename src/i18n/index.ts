/**
 * The bot's own words in the reader's language: Fluent files under `locales/` (one per language,
 * `en.ftl` the reference), loaded by grammY's i18n plugin (`@grammyjs/i18n`). The bot installs the
 * plugin's middleware, so handlers translate through `ctx.t` in the chat's language; everything
 * without an update in hand (the answerer's lines, the command menu, the terminal chat) translates
 * through `translator(lang)` from the same files.
 *
 * Placeables are not wrapped in Unicode isolation marks (`useIsolating: false`): Telegram shows
 * them as they are, and English output stays byte for byte what it was before localisation.
 */
import { fileURLToPath } from 'node:url';
import type { Context } from 'grammy';
import { I18n, type LocaleNegotiator } from '@grammyjs/i18n';

/** Where the Fluent files are: `locales/<lang>.ftl` at the repository root. */
export const LOCALES_DIR = fileURLToPath(new URL('../../locales', import.meta.url));

/** The language everything falls back to, and the one every other locale is checked against. */
export const DEFAULT_LANGUAGE = 'en';

/** The languages the interface ships in (a locale file each), English first. */
export const SHIPPED_LANGUAGES: readonly string[] = ['en', 'ru', 'es', 'de', 'uk', 'fr'];

/** Values a message's placeables take: strings as they are, numbers formatted (and selecting plural forms) for the language. */
export type TranslationValues = Record<string, string | number>;

/** A message by its key, in one language. */
export type Translate = (key: string, values?: TranslationValues) => string;

let loaded: I18n | null = null;

/**
 * A plugin instance over `locales/` (a missing key in one locale falls back to English);
 * `localeNegotiator` picks each update's language when its middleware is installed.
 */
export function createI18n<C extends Context>(localeNegotiator?: LocaleNegotiator<C>): I18n<C> {
  return new I18n<C>({
    defaultLocale: DEFAULT_LANGUAGE,
    directory: LOCALES_DIR,
    fluentBundleOptions: { useIsolating: false },
    // The completeness test keeps every locale whole; a miss falls back to English quietly.
    fluentOptions: { warningHandler: () => undefined },
    ...(localeNegotiator ? { localeNegotiator } : {}),
  });
}

/** The shared instance for translating without an update (read on first use). */
export function i18n(): I18n {
  loaded ??= createI18n();
  return loaded;
}

/**
 * The shipped language for a language tag (Telegram's `language_code`: "ru", "pt-br", "uk"), by
 * its primary subtag; null for a language the interface does not ship.
 */
export function shippedLanguage(code: string | null | undefined): string | null {
  const primary = code?.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return SHIPPED_LANGUAGES.includes(primary) ? primary : null;
}

/** The translate function for `lang` (English for a language not shipped). */
export function translator(lang: string | null | undefined): Translate {
  const locale = shippedLanguage(lang) ?? DEFAULT_LANGUAGE;
  const plugin = i18n();
  return (key, values) => plugin.t(locale, key, values);
}

/** English, for the places that have no reader (logs aside): tests and defaults. */
export const english: Translate = (key, values) => translator(DEFAULT_LANGUAGE)(key, values);

/** The name of a shipped language in itself ("Русский", "Español"): buttons and /language replies. */
export function nativeName(lang: string): string {
  return translator(lang)('language-self');
}
