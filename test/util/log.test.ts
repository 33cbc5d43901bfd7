/**
 * The logger's contract, whatever writes the lines (pino since issue #18): one JSON object per line
 * with `level` (a word), `t` (ISO time), `event` and the fields; levels below the configured one
 * dropped; known secrets masked wherever they appear; errors as name and message; the file target
 * appending, and reporting a file it cannot write once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendToFile, createLogger } from '../../src/util/log.js';
import { tempDir } from '../support/stack.js';

const SECRET = '123456:SECRET-token-value';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('createLogger', () => {
  it('writes one JSON line per event at or above the level, secrets masked in every field', () => {
    const lines: string[] = [];
    const log = createLogger('info', [SECRET], (l) => lines.push(l));
    log.debug('dropped.event', { x: 1 });
    log.info('bot.answered', { chat_id: 5, url: `https://api.telegram.org/bot${SECRET}/getMe`, nested: { deep: [SECRET] } });
    log.error('bot.update_failed', { error: new Error(`failed calling ${SECRET}`), err: new TypeError('bad') });
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l).not.toContain('\n');
      expect(l).not.toContain(SECRET);
    }
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a).toEqual({
      level: 'info',
      t: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      event: 'bot.answered',
      chat_id: 5,
      url: 'https://api.telegram.org/bot***/getMe',
      nested: { deep: ['***'] },
    });
    expect(b).toEqual({
      level: 'error',
      t: expect.any(String),
      event: 'bot.update_failed',
      error: { name: 'Error', message: 'failed calling ***' },
      err: { name: 'TypeError', message: 'bad' },
    });
  });

  it('writes nothing at level silent', () => {
    const lines: string[] = [];
    const log = createLogger('silent', [], (l) => lines.push(l));
    log.error('x.y');
    expect(lines).toEqual([]);
  });
});

describe('appendToFile', () => {
  it('creates the folder, appends lines, and tells once when the file cannot be written', () => {
    const dir = tempDir('log-');
    dirs.push(dir);
    const file = path.join(dir, 'state', 'newsdesk.log');
    const log = createLogger(
      'info',
      [SECRET],
      appendToFile(file, () => {}),
    );
    log.info('one.event', { token: SECRET });
    log.warn('two.event');
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(['one.event', 'two.event']);
    expect(lines[0]).toContain('"token":"***"');

    const notes: string[] = [];
    // A folder where the file should be: appending fails.
    const blocked = path.join(dir, 'blocked.log');
    fs.mkdirSync(blocked);
    const broken = createLogger(
      'info',
      [],
      appendToFile(blocked, (m) => notes.push(m)),
    );
    broken.info('a.b');
    broken.info('c.d');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/Could not write the log file .*blocked\.log \(EISDIR\); log lines are dropped\./);
  });
});
