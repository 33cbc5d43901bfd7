/**
 * A small multi-article corpus written for retrieval tests (distinct topics, dates and vocabulary).
 * The files live in test/fixtures/corpus/ so the fixture model's vocabulary covers their words.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/corpus');

/** `{fileName: content}` of every corpus article. */
export const CORPUS: Record<string, string> = Object.fromEntries(
  fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => [f, fs.readFileSync(path.join(DIR, f), 'utf8')]),
);
