/**
 * `npm run gaps` end to end: questions asked in the terminal chat and with `npm run ask` are logged, and the report groups
 * the uncovered ones into one topic, as text, JSON and CSV, leaving the covered question out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storyText } from '../support/feed-server.js';
import { mdArticle, tempDir, writeFiles } from '../support/stack.js';
import { runCli } from './support.js';

let root: string;
const UNCOVERED = ['When does the Elm Island ferry begin service?', 'elm island ferri timetable', 'Is there a ferry to Elm Island yet?'];
const COVERED = 'When did the harbour bridge reopen?';
// Lexical grouping only: the fixture model's vectors are random, so its similarity would mean nothing.
const env = { EMBEDDING_PROVIDER: 'none' };

beforeAll(async () => {
  root = tempDir();
  writeFiles(path.join(root, 'articles'), {
    'bridge.md': mdArticle(
      'Harbour bridge reopens after repairs',
      '2024-06-01',
      storyText('The harbour bridge reopened on Monday after repairs.'),
    ),
    'budget.md': mdArticle('Council passes budget', '2024-06-02', storyText('The council passed its budget with a small surplus.')),
  });
  // Two front ends record: the chat (two uncovered, one covered) and a one-shot ask.
  const chat = await runCli(root, ['chat'], { env, input: [UNCOVERED[0], UNCOVERED[1], COVERED].join('\n') + '\n' });
  expect(chat.code, chat.stderr).toBe(0);
  const ask = await runCli(root, ['ask', UNCOVERED[2]!], { env });
  expect(ask.code, ask.stderr).toBe(0);
}, 120_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('npm run gaps', () => {
  it('prints the uncovered questions as one topic, in text, JSON and CSV', async () => {
    const text = await runCli(root, ['gaps'], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/3 questions not covered, answered without a source, or 👎, in 1 topic\./);
    for (const q of UNCOVERED) expect(text.stdout).toContain(q);
    expect(text.stdout).not.toContain(COVERED);

    const json = await runCli(root, ['gaps', '--days', '7', '--json'], { env });
    const report = JSON.parse(json.stdout) as { topics: { readers: number; count: number; examples: string[] }[] };
    // Terminal questions have no reader: each counts as one.
    expect(report.topics.map((t) => [t.readers, t.count])).toEqual([[3, 3]]);

    const csv = await runCli(root, ['gaps', '--csv'], { env });
    expect(csv.stdout.split('\n')[0]).toBe('rank,topic,readers,questions,previous_period,example');
    expect(csv.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('refuses a bad --days in one line', async () => {
    const r = await runCli(root, ['gaps', '--days', 'soon'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('--days takes a whole number of days from 1 to 365.');
  });
});
