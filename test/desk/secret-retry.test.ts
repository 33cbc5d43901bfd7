/**
 * Without QUESTION_LOG_SECRET the desk reads its key from the log's own database. A failure
 * reading it (a PostgreSQL blip at the first question) must not disable the log, the feedback
 * and /forgetme for the rest of the process: the next call tries again.
 */
import fs from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { QuestionDesk } from '../../src/desk/desk.js';
import { SqliteQuestionLog } from '../../src/desk/log.js';
import { tempDir } from '../support/stack.js';

const dir = tempDir('desk-secret-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

class FlakyLog extends SqliteQuestionLog {
  failures = 1;
  override installSecret(candidate: string): string {
    if (this.failures-- > 0) throw new Error('database unreachable');
    return super.installSecret(candidate);
  }
}

it('reads the installation secret again after a failed read', async () => {
  const log = new FlakyLog(dir);
  const desk = new QuestionDesk(log, { retentionDays: 30, secret: undefined });
  const q = { text: 'When does the ferry start?', outcome: 'not-covered' as const, chatType: 'private', userId: 7, chatId: 7 };
  expect(await desk.record(q)).toBeNull();
  const id = await desk.record(q);
  expect(id).toBeGreaterThan(0);
  expect(await desk.forget(7)).toBe(1);
  await desk.close();
});
