/**
 * Each article's language is recorded at indexing, in the embedded store and in PostgreSQL, so
 * the index knows which languages it holds and the answerer which questions are in another.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import type { App } from '../../src/app.js';
import { DB_FILE, describeFiles, MANIFEST_FILE } from '../../src/store/manifest.js';
import { CORPUS } from '../support/corpus.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';

const RUSSIAN = mdArticle(
  'Пожар в соборе Парижской Богоматери',
  '2019-04-16',
  'Вечером в понедельник в соборе Парижской Богоматери начался сильный пожар. Обрушился шпиль, но главные башни и большая часть сводов уцелели. Пожарные боролись с огнём всю ночь, президент Франции пообещал восстановить собор.',
);
const GERMAN = mdArticle(
  'Hurrikan trifft die Bahamas',
  '2019-09-02',
  'Der Hurrikan Dorian hat die Bahamas mit Windgeschwindigkeiten von fast dreihundert Kilometern pro Stunde getroffen. Tausende Häuser wurden zerstört, und die Regierung bat um internationale Hilfe für die betroffenen Inseln.',
);
const FILES = { ...CORPUS, 'ru-notre-dame.md': RUSSIAN, 'de-dorian.md': GERMAN };
const ENGLISH = Object.keys(CORPUS).length;

const roots: string[] = [];
const apps: App[] = [];
async function app(env: Record<string, string> = {}): Promise<App> {
  const root = tempDir();
  roots.push(root);
  writeFiles(path.join(root, 'articles'), FILES);
  const a = await testApp(root, env);
  apps.push(a);
  return a;
}
afterEach(async () => {
  for (const a of apps.splice(0)) {
    a.library.close();
    await a.database?.end();
  }
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

describe('article languages in the embedded store', () => {
  it('counts the articles per language, and an incremental build keeps the count of the articles it did not touch', async () => {
    const a = await app();
    await a.library.ensure();
    expect(a.library.searchIndex()?.manifest.languages).toEqual({ en: ENGLISH, ru: 1, de: 1 });
    fs.rmSync(path.join(a.config.articlesDir, 'de-dorian.md'));
    writeFiles(a.config.articlesDir, {
      'ru-second.md': RUSSIAN.replaceAll('Пожар', 'Новый пожар').replace('Вечером в понедельник', 'Утром во вторник'),
    });
    await a.library.sync();
    expect(a.library.searchIndex()?.manifest.languages).toEqual({ en: ENGLISH, ru: 2 });
  });

  it('makes a language with a tenth of the articles one of the collection: a question in it is not "foreign"', async () => {
    const a = await app({ EMBEDDING_PROVIDER: 'none' });
    await a.library.ensure();
    const answer = await a.answerer.ask('Что случилось с собором Парижской Богоматери?', []);
    expect(answer.questionLanguage).toBe('ru');
    // Not the "needs an answer model" line: the Russian article is searched in Russian.
    expect(answer.text).not.toContain('нужна модель ответов');
  });
});

describe('an index written before languages were recorded', () => {
  it('gains the column when the next build copies it, keeps its articles (language unknown) and records the new ones', async () => {
    const a = await app({ EMBEDDING_PROVIDER: 'none' });
    await a.library.ensure();
    // Turn the published generation into one written by the previous version: no lang column, no counts.
    const genDir = path.join(a.config.indexDir, fs.readFileSync(path.join(a.config.indexDir, 'CURRENT'), 'utf8').trim());
    const db = new Database(path.join(genDir, DB_FILE));
    db.exec('ALTER TABLE articles DROP COLUMN lang');
    db.close();
    const manifest = JSON.parse(fs.readFileSync(path.join(genDir, MANIFEST_FILE), 'utf8'));
    delete manifest.languages;
    manifest.files = describeFiles(genDir, [DB_FILE]);
    fs.writeFileSync(path.join(genDir, MANIFEST_FILE), JSON.stringify(manifest));
    a.library.close();
    const b = await testApp(path.dirname(a.config.articlesDir), { EMBEDDING_PROVIDER: 'none' });
    apps.push(b);
    await b.library.ensure();
    expect(b.library.searchIndex()?.manifest.languages).toBeUndefined();

    writeFiles(b.config.articlesDir, {
      'ru-second.md': RUSSIAN.replaceAll('Пожар', 'Новый пожар').replace('Вечером в понедельник', 'Утром во вторник'),
    });
    const synced = await b.library.sync();
    expect(synced.problem).toBeNull();
    expect(synced.summary?.added).toBe(1);
    expect(b.library.searchIndex()?.manifest.languages).toEqual({ '': ENGLISH + 2, ru: 1 });
  });
});

describe('article languages in PostgreSQL', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db?.drop();
  });

  it('stores each article with its language and counts them as the embedded store does', async () => {
    const a = await app({ DATABASE_URL: db.url, EMBEDDING_PROVIDER: 'none' });
    await a.library.ensure();
    expect(a.library.searchIndex()?.manifest.languages).toEqual({ en: ENGLISH, ru: 1, de: 1 });
    const { rows } = await a.database!.query<{ path: string; lang: string }>(
      "SELECT path, lang FROM index_articles WHERE removed_gen IS NULL AND lang <> 'en' ORDER BY path",
    );
    expect(rows).toEqual([
      { path: 'de-dorian.md', lang: 'de' },
      { path: 'ru-notre-dame.md', lang: 'ru' },
    ]);
  });
});
