/**
 * The bot's own words in the reader's language: Fluent files under `locales/` (one per language,
 * `en.ftl` the reference). In the bot, grammY's i18n plugin (`@grammyjs/i18n`, installed in
 * src/bot/language.ts) loads them and handlers translate through `ctx.t` in the chat's language;
 * everything without an update in hand (the answerer's lines, the command menu, alerts, the
 * terminal chat) translates through `translator(lang)` here, over the same files with the same
 * Fluent options. This module reads them with `@fluent/bundle` alone, so a process that never
 * runs the bot does not load the plugin (and its Deno shims, about 0.2 s).
 *
 * Placeables are not wrapped in Unicode isolation marks (`useIsolating: false`): Telegram shows
 * them as they are, and English output stays byte for byte what it was before localisation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FluentBundle, FluentResource } from '@fluent/bundle';

/** Where the Fluent files are: `locales/<lang>.ftl` at the repository root. */
export const LOCALES_DIR = fileURLToPath(new URL('../../locales', import.meta.url));

/** The language everything falls back to, and the one every other locale is checked against. */
export const DEFAULT_LANGUAGE = 'en';

/** The languages the interface ships in (a locale file each), English first. */
export const SHIPPED_LANGUAGES: readonly string[] = ['en', 'ru', 'es', 'de', 'uk', 'fr'];

/** The options every bundle is made with, here and in the bot's plugin. */
export const BUNDLE_OPTIONS = { useIsolating: false } as const;

/** Values a message's placeables take: strings as they are, numbers formatted (and selecting plural forms) for the language. */
export type TranslationValues = Record<string, string | number>;

/** A message by its key, in one language. */
export type Translate = (key: string, values?: TranslationValues) => string;

const bundles = new Map<string, FluentBundle>();

/** The bundle of a shipped language, read on first use. */
function bundle(lang: string): FluentBundle {
  let b = bundles.get(lang);
  if (!b) {
    b = new FluentBundle(lang, BUNDLE_OPTIONS);
    const errors = b.addResource(new FluentResource(fs.readFileSync(path.join(LOCALES_DIR, `${lang}.ftl`), 'utf8')));
    if (errors.length > 0) throw new Error(`locales/${lang}.ftl: ${errors.map((e) => e.message).join('; ')}`);
    bundles.set(lang, b);
  }
  return b;
}

/**
 * The shipped language for a language tag (Telegram's `language_code`: "ru", "pt-br", "uk"), by
 * its primary subtag; null for a language the interface does not ship.
 */
export function shippedLanguage(code: string | null | undefined): string | null {
  const primary = code?.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return SHIPPED_LANGUAGES.includes(primary) ? primary : null;
}

/** The translate function for `lang` (English for a language not shipped, and for a message a locale lacks). */
export function translator(lang: string | null | undefined): Translate {
  const locale = shippedLanguage(lang) ?? DEFAULT_LANGUAGE;
  return (key, values) => {
    for (const b of locale === DEFAULT_LANGUAGE ? [bundle(locale)] : [bundle(locale), bundle(DEFAULT_LANGUAGE)]) {
      const message = b.getMessage(key);
      if (message?.value) return b.formatPattern(message.value, values ?? null);
    }
    // As the plugin does: the key shows, rather than an empty message.
    return `{${key}}`;
  };
}

/** English, for the places that have no reader (logs aside): tests and defaults. */
export const english: Translate = (key, values) => translator(DEFAULT_LANGUAGE)(key, values);

/** The name of a shipped language in itself ("Русский", "Español"): buttons and /language replies. */
export function nativeName(lang: string): string {
  return translator(lang)('language-self');
}
