/**
 * Every shipped locale is complete against English (no missing message, no placeholder the code
 * does not fill in, the same Telegram HTML tags), formats without errors, and the checker itself
 * catches each of those faults in a deliberately broken locale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FluentBundle, FluentResource } from '@fluent/bundle';
import { describe, expect, it } from 'vitest';
import { localeProblems, parseLocale } from '../../src/i18n/check.js';
import { english, LOCALES_DIR, SHIPPED_LANGUAGES, shippedLanguage, translator } from '../../src/i18n/index.js';

const source = (lang: string) => fs.readFileSync(path.join(LOCALES_DIR, `${lang}.ftl`), 'utf8');
const EN = source('en');

describe('locale files', () => {
  it('ships exactly the languages that have a locale file, English first', () => {
    const files = fs
      .readdirSync(LOCALES_DIR)
      .filter((f) => f.endsWith('.ftl'))
      .map((f) => f.replace(/\.ftl$/, ''));
    expect([...files].sort()).toEqual([...SHIPPED_LANGUAGES].sort());
    expect(SHIPPED_LANGUAGES[0]).toBe('en');
    expect(SHIPPED_LANGUAGES.length).toBeGreaterThanOrEqual(4);
  });

  it.each(SHIPPED_LANGUAGES.filter((l) => l !== 'en'))('%s has every English message, with no placeholder or tag English lacks', (lang) => {
    expect(localeProblems(EN, source(lang))).toEqual([]);
  });

  it('English itself parses whole', () => {
    const { messages, unparsed } = parseLocale(EN);
    expect(unparsed).toEqual([]);
    expect(messages.size).toBeGreaterThan(100);
  });

  it.each(SHIPPED_LANGUAGES)('every %s message formats without errors, plural forms included', (lang) => {
    const bundle = new FluentBundle(lang, { useIsolating: false });
    expect(bundle.addResource(new FluentResource(source(lang)))).toEqual([]);
    for (const [id, shape] of parseLocale(EN).messages) {
      for (const count of [0, 1, 2, 5, 21, 313]) {
        const values = Object.fromEntries([...shape.variables].map((v) => [v, v === 'count' ? count : `«${v}»`]));
        const errors: Error[] = [];
        const text = bundle.formatPattern(bundle.getMessage(id)!.value!, values, errors);
        expect(errors, `${lang} ${id}`).toEqual([]);
        expect(text.trim(), `${lang} ${id}`).not.toBe('');
      }
    }
  });

  it('writes Russian plural forms for Russian numbers', () => {
    const ru = translator('ru');
    expect(ru('forgot-private', { count: 1 })).toContain('1 ваш записанный вопрос ');
    expect(ru('forgot-private', { count: 3 })).toContain('3 ваших записанных вопроса ');
    expect(ru('forgot-private', { count: 11 })).toContain('11 ваших записанных вопросов ');
    expect(ru('start-knows', { count: 21 })).toContain('<b>21</b> новостной статье');
  });

  it('picks the shipped language by its primary subtag, and English for the rest', () => {
    expect(shippedLanguage('ru')).toBe('ru');
    expect(shippedLanguage('pt-br')).toBeNull();
    expect(shippedLanguage('uk-UA')).toBe('uk');
    expect(translator('pt-br')('sources-title')).toBe(english('sources-title'));
    expect(translator('ru')('sources-title')).toBe('Источники');
  });
});

describe('the completeness check', () => {
  // A copy of the Russian locale broken in each way the check must catch.
  const broken = source('ru')
    .replace(/^sources-title = .*\n/m, '')
    .replace(/^reset-done = .*$/m, 'reset-done = Готово, { $name }: я забыл наш разговор.')
    .replace(/^help-title = .*$/m, 'help-title = Как мной пользоваться')
    .replace(/^not-text = .*$/m, 'not-text = Я читаю { только текст.')
    .concat('\nsources-titel = Источники\n');

  it('reports a missing message, a foreign placeholder, lost tags, a broken entry and an unknown key', () => {
    expect(localeProblems(EN, broken).sort()).toEqual(
      [
        'sources-title: missing',
        'reset-done: placeholder { $name } that English lacks',
        'help-title: HTML tags none, English has </b <b',
        'not-text: does not parse',
        'sources-titel: not in English (a renamed key?)',
      ].sort(),
    );
  });

  it('accepts a locale that uses fewer placeholders than English (a language may not need one)', () => {
    const fewer = source('ru').replace(/^rate-limited = .*$/m, 'rate-limited = Слишком много сообщений. Подождите минуту.');
    expect(localeProblems(EN, fewer)).toEqual([]);
  });
});
