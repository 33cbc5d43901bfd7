/**
 * Property-based: random strings as messages to the bot over the real stack. Whatever the text
 * (control characters, lone surrogates, markup, commands, over-long), the bot must not crash or
 * leave a promise rejected unhandled, must reply, and everything it sends must be something
 * Telegram accepts: valid Telegram HTML, or plain text within 4096 characters with no lone
 * surrogates (Telegram refuses those as invalid UTF-8).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { badPayloads, payloadProblem, startStack, unexpectedErrors, type Stack } from './support.js';

const RUNS = 60;
let s: Stack;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  s = await startStack({ harness: { config: { adminUserIds: [1] } } });
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await s?.stop();
});

const pieces = fc.constantFrom(
  '<b>',
  '</b>',
  '<a href="javascript:x">',
  '</a>',
  '<',
  '>',
  '&',
  '&amp;',
  '&#x0;',
  '`',
  '```',
  '*',
  '_',
  '~',
  '||',
  '[1]',
  '[',
  '](',
  ')',
  '\u0000',
  '\u0007',
  '\u001b',
  '\u200b',
  '\u202e',
  '\uD800',
  '\uDC00',
  '\uD83D\uDE00',
  '\n',
  ' ',
  '\t',
  'who',
  'won',
  'the',
  'chess',
  'championship',
  'council',
  'volcano',
  'he',
  '?',
  '@TestNameBot',
  '/start',
  '/help',
  '/reset',
  '/sources',
);
const message = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.string({ unit: 'grapheme', maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 60 }).map((t) => `/${t}`),
  fc.array(pieces, { maxLength: 80 }).map((p) => p.join('')),
  fc.array(pieces, { maxLength: 20 }).map((p) => `/${p.join('')}`),
  fc
    .tuple(fc.constantFrom('Who won the chess championship? ', 'What erupted on Tamuna? '), fc.string({ unit: 'binary', maxLength: 200 }))
    .map(([a, b]) => a + b),
  fc.string({ unit: 'binary', minLength: 990, maxLength: 1200 }),
);

it(`replies to ${RUNS} random messages with payloads Telegram accepts, and never crashes`, async () => {
  let user = 50_000;
  let replied = 0;
  await fc.assert(
    fc.asyncProperty(message, async (text) => {
      const chat = s.h.privateChat(++user);
      const before = s.h.calls.length;
      await chat.send(text);
      // Every private message gets at least one reply: an answer, a refusal, a hint or a usage line.
      await chat.waitForReplies(1, 20_000);
      replied++;
      for (const c of s.h.calls.slice(before)) {
        if (c.method === 'sendMessage' || c.method === 'editMessageText' || c.method === 'sendMessageDraft')
          expect(payloadProblem(c)).toBeNull();
      }
    }),
    { numRuns: RUNS, endOnFailure: true },
  );
  // Stopping drains every update still in progress, so late parts of answers are checked too.
  await s.h.handle.stop();
  expect(replied).toBe(RUNS);
  expect(badPayloads(s.h)).toEqual([]);
  expect(unexpectedErrors(s.h)).toEqual([]);
  expect(s.h.callsOf('sendMessage').filter((c) => !c.ok)).toEqual([]);
  expect(unhandled).toEqual([]);
}, 120_000);
