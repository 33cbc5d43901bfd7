/**
 * /reindex never empties the index by accident, over the real stack (fixture model, a real index of
 * the test corpus, the real library) and the Telegram emulator: a reindex that would remove most
 * articles is refused with an explanation and a "Confirm" button that only admins may press, and
 * nothing is removed until one does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CORPUS } from '../support/corpus.js';
import { FakeAnswerer } from '../support/telegram-fakes.js';
import { tempDir, testApp, writeFiles } from '../support/stack.js';
import { type BotMessage, TelegramHarness, textOf } from '../support/telegram.js';

const ADMIN = 71;
const STRANGER = 72;
const GROUP = -100_771;
let root: string;
let app: App;
let h: TelegramHarness;

beforeAll(async () => {
  root = tempDir('newsbot-confirm-');
  writeFiles(path.join(root, 'articles'), CORPUS);
  app = await testApp(root);
  await app.library.ensure();
  h = await TelegramHarness.start({ answerer: new FakeAnswerer(), library: app.library, config: { adminUserIds: [ADMIN] } });
});
afterAll(async () => {
  await h?.stop();
  app?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('/reindex that would remove most articles', () => {
  let refused: BotMessage;

  it('is refused with an explanation and a Confirm button; nothing is removed', async () => {
    for (const f of ['bridge.md', 'chess.md', 'rocket.md']) fs.rmSync(path.join(root, 'articles', f));
    const admin = h.groupChat(GROUP, ADMIN);
    await admin.send('/reindex');
    const [progress] = await admin.waitForReplies(1);
    refused = await admin.waitFor((m) => m.message_id === progress!.message_id && /not run/.test(m.text), 15_000);
    expect(textOf(refused)).toBe(
      'Reindex not run: it would remove 3 of the 5 indexed articles, because the articles folder holds 2 now.\n' +
        'Nothing was removed. If the folder is wrong, fix it (ARTICLES_DIR) and /reindex again; if the removal is intended, press Confirm.',
    );
    expect(refused.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['Confirm']);
    expect(app.library.stats().articles).toBe(5);
  });

  it('ignores Confirm from someone who is not an admin', async () => {
    const stranger = h.groupChat(GROUP, STRANGER);
    stranger.skipSeen();
    const before = h.callsOf('answerCallbackQuery').length;
    await stranger.tap(refused, 'Confirm');
    const [alert] = await h.waitUntil(() => {
      const calls = h.callsOf('answerCallbackQuery').slice(before);
      return calls.length > 0 ? calls : undefined;
    }, 10_000);
    expect(alert!.payload).toMatchObject({ text: 'Only the bot’s admins can confirm a reindex.', show_alert: true });
    await stranger.expectNoReplies(500);
    expect(app.library.stats().articles).toBe(5);
  });

  it('runs with the removal when an admin confirms, and the button goes away', async () => {
    const admin = h.groupChat(GROUP, ADMIN);
    admin.skipSeen();
    await admin.tap(refused, 'Confirm');
    const [summary] = await admin.waitForReplies(1, 15_000);
    expect(textOf(summary!)).toMatch(
      /^Reindex done in [^\n]+\nadded 0 · changed 0 · removed 3 · unchanged 2 · skipped 0\nIndex: 2 articles/,
    );
    const edited = h.messagesIn(GROUP).find((m) => m.message_id === refused.message_id)!;
    expect(edited.text).toBe('Reindex finished.');
    expect(edited.reply_markup).toBeUndefined();
    expect(app.library.stats().articles).toBe(2);
  });
});
