/**
 * Readers in their own language, and by voice, through the Telegram emulator over the real stack
 * (fixture embedding model, a real index of the seed article and the test corpus, the real
 * answerer): the stand-in answer model and transcription service on 127.0.0.1 are the only doubles.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translatingCondensePrompt } from '../../src/answering/index.js';
import type { App } from '../../src/app.js';
import { createLogger } from '../../src/util/log.js';
import { CORPUS } from '../support/corpus.js';
import { type FakeOpenAI, type FakeTranscriptionRequest, isOggOpus, startFakeOpenAI } from '../support/fake-openai.js';
import { eventually, tempDir, testApp, writeFiles } from '../support/stack.js';
import { TelegramHarness, textOf } from '../support/telegram.js';

const SEED_TITLE = /A Kolokoltsev’s arrival.*2024-06-27/s;
const RU_QUESTION = 'С кем проведёт двусторонние встречи Колокольцев?';
const EN_QUERY = 'Who will Kolokoltsev hold bilateral meetings with?';
const VOICE = {
  meeting: fs.readFileSync('test/fixtures/voice/kolokoltsev-meeting.ogg'),
  followUp: fs.readFileSync('test/fixtures/voice/follow-up.ogg'),
};
/** What the stand-in transcription service "hears" in each fixture (espeak-ng spoke these words into them). */
const HEARD = new Map([
  [sha256(VOICE.meeting), 'Who will Kolokoltsev meet at the UN?'],
  [sha256(VOICE.followUp), 'What did he ask him for?'],
]);

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

type ChatRequest = { messages: { role: string; content: string }[] };
const lastUser = (r: ChatRequest) => r.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';

/**
 * The stand-in answer model: writes the English query for the Russian question, resolves "he"
 * and "him" in a follow-up from the conversation it was sent, and answers from source [1] — in
 * Russian when it is told to.
 */
function answerModel(req: ChatRequest): string {
  const system = req.messages[0]?.content ?? '';
  const prompt = lastUser(req);
  if (system === translatingCondensePrompt('English')) return prompt.includes(RU_QUESTION) ? EN_QUERY : 'unexpected question';
  if (/standalone/i.test(system)) {
    return /Kolokoltsev/.test(prompt) && /\bhe\b/i.test(prompt)
      ? 'What did Kolokoltsev ask Lacroix for?'
      : (/question: (.*)/i.exec(prompt)?.[1] ?? '');
  }
  if (prompt.includes('Write the answer in Russian')) return 'Колокольцев проведёт двусторонние встречи с Жан-Пьером Лакруа [1].';
  const first = /\[1\][^\n]*\n([^\n]+)/.exec(prompt)?.[1] ?? '';
  return `${first.split(/(?<=\.)\s/)[0] ?? first} [1]`;
}

/** The stand-in transcription service: only real Ogg/Opus voice notes it knows are "heard". */
function transcription(req: FakeTranscriptionRequest): string | number {
  if (!isOggOpus(req.audio) || req.model !== 'whisper-1') return 400;
  return HEARD.get(sha256(req.audio)) ?? 400;
}

const roots: string[] = [];
function articles(): string {
  const root = tempDir();
  roots.push(root);
  writeFiles(path.join(root, 'articles'), { ...CORPUS, 'seed.txt': fs.readFileSync('seeds/000_cc2b64a9889106ac.txt') });
  return root;
}
afterAll(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

describe('with an answer model and a transcription service', () => {
  let app: App;
  let fake: FakeOpenAI;
  let h: TelegramHarness;
  let user = 300;
  const logs: string[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler((req) => answerModel(req as ChatRequest));
    fake.setTranscriber(transcription);
    const env = { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test-secret-key-123456', TRANSCRIBE_MODEL: 'whisper-1' };
    app = await testApp(
      articles(),
      env,
      createLogger('info', [], (line) => logs.push(line)),
    );
    await app.library.ensure();
    h = await TelegramHarness.start({
      answerer: app.answerer,
      library: app.library,
      transcriber: app.transcriber,
      historyTurns: 6,
    });
  });
  afterAll(async () => {
    await h?.stop();
    await fake?.close();
    app?.close();
  });

  it('answers a Russian reader in Russian, with Russian labels and menu, citing the seed after searching in English; /language en switches the chat to English', async () => {
    const chat = h.privateChat(++user, 'Ирина', 'ru');
    await chat.send(RU_QUESTION);
    const reply = await chat.waitForNew((m) => /Источники/.test(textOf(m)), 20_000, 'an answer with Russian sources');
    expect(textOf(reply)).toContain('Колокольцев проведёт двусторонние встречи с Жан-Пьером Лакруа [1]');
    expect(textOf(reply)).toMatch(SEED_TITLE);
    expect(textOf(reply)).not.toMatch(/Sources/);
    expect(reply.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toContain('Показать цитаты');
    // Retrieval got the English query, and the seed's passage reached the model with the Russian question and the language to write in.
    const event = logs.map((l) => JSON.parse(l)).findLast((e) => e.event === 'answer.query');
    expect(event).toMatchObject({ query: EN_QUERY, query_lang: 'en', question_lang: 'ru', translated: true });
    const write = fake.chatRequests().at(-1) as ChatRequest;
    expect(lastUser(write)).toContain(`Question: ${RU_QUESTION}`);
    expect(lastUser(write)).toContain('Jean-Pierre Lacroix');
    expect(lastUser(write)).toContain('Write the answer in Russian');

    // The menu was published in Russian for Russian clients (the emulator records the attempt).
    const menu = h.callsOf('setMyCommands').find((c) => c.payload.language_code === 'ru' && c.payload.scope === undefined);
    const descriptions = Object.fromEntries(
      (menu!.payload.commands as { command: string; description: string }[]).map((c) => [c.command, c.description]),
    );
    expect(descriptions).toMatchObject({
      help: 'Как пользоваться ботом',
      sources: 'Список статей в индексе',
      language: 'Выбрать язык, на котором я пишу',
    });

    // /language shows the choice with a button per language; /language en switches this chat to English.
    await chat.send('/language');
    const choice = await chat.waitForNew((m) => /по-русски/.test(textOf(m)), 15_000, 'the language choice');
    expect(choice.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual([
      'English',
      'Русский',
      'Español',
      'Deutsch',
      'Українська',
      'Français',
    ]);
    await chat.send('/language en');
    await chat.waitForNew((m) => textOf(m) === 'Done: I write to you in English now.', 15_000, 'the switch to English');
    await chat.send(RU_QUESTION);
    const english = await chat.waitForNew((m) => /Sources/.test(textOf(m)), 20_000, 'an answer with English labels');
    expect(textOf(english)).toMatch(SEED_TITLE);
    expect(english.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toContain('Show quotes');
    // The chosen language is the answer's, whatever the question's.
    expect(lastUser(fake.chatRequests().at(-1) as ChatRequest)).toContain('Write the answer in English');
    await chat.send('/help');
    const help = await chat.waitForNew((m) => /How to use me/.test(textOf(m)), 15_000, 'English help');
    expect(textOf(help)).toContain('/language — the language I write in');
  });

  it('/language: buttons switch the chat, an unknown code is refused, auto goes back to the Telegram language', async () => {
    const chat = h.privateChat(++user, 'Hans', 'de');
    await chat.send('/language');
    const choice = await chat.waitForNew((m) => /auf Deutsch, der Sprache deines Telegram/.test(textOf(m)), 15_000, 'the German choice');
    await chat.tap(choice, 'Français');
    await eventually(async () => textOf(choice) === "C'est fait : je vous écris désormais en français.", 10_000, 'the edited choice');
    await chat.send('/start');
    await chat.waitForNew(
      (m) => /^Bonjour ! Je réponds aux questions sur \d+ articles d'actualité publiés entre le/.test(textOf(m)),
      15_000,
      'a French /start',
    );
    await chat.send('/language pt');
    await chat.waitForNew(
      (m) => textOf(m) === "Je n'écris pas en « pt ». Je peux écrire en : en, ru, es, de, uk, fr, auto.",
      15_000,
      'the refusal in French',
    );
    await chat.send('/language auto');
    await chat.waitForNew(
      (m) => textOf(m) === 'Erledigt: Ich folge wieder der Sprache deines Telegram und schreibe dir auf Deutsch.',
      15_000,
      'back to German',
    );
  });

  it('shows what it heard in a voice note, answers it, and resolves a follow-up asked by voice', async () => {
    const chat = h.privateChat(++user);
    await chat.sendVoice({ bytes: VOICE.meeting, duration: 3 });
    const heard = await chat.waitForNew((m) => textOf(m).startsWith('\u{1F3A4}'), 20_000, 'the transcript');
    expect(textOf(heard)).toBe('\u{1F3A4} Who will Kolokoltsev meet at the UN?');
    const first = await chat.waitForNew((m) => /Sources/.test(textOf(m)), 20_000, 'an answer with sources');
    expect(textOf(first)).toMatch(SEED_TITLE);
    // The bot downloaded the voice note from Telegram and uploaded it whole.
    expect(fake.transcriptions.at(-1)?.fileName).toBe('voice.ogg');
    expect(sha256(fake.transcriptions.at(-1)!.audio)).toBe(sha256(VOICE.meeting));

    await chat.sendVoice({ bytes: VOICE.followUp, duration: 2 });
    const heardAgain = await chat.waitForNew((m) => textOf(m).startsWith('\u{1F3A4}'), 20_000, 'the second transcript');
    expect(textOf(heardAgain)).toBe('\u{1F3A4} What did he ask him for?');
    const second = await chat.waitForNew((m) => /Sources/.test(textOf(m)), 20_000, 'the follow-up answer');
    expect(textOf(second)).toMatch(SEED_TITLE);
    const condense = fake.chatRequests().find((r) => /Follow-up question: What did he ask him for\?/.test(lastUser(r as ChatRequest)));
    expect(JSON.stringify(condense?.messages)).toContain('Who will Kolokoltsev meet at the UN?');
  });

  it('takes an audio file as well as a voice note', async () => {
    const chat = h.privateChat(++user);
    await chat.sendVoice({ bytes: VOICE.meeting, duration: 3, asAudio: true });
    await chat.waitForNew((m) => textOf(m) === '\u{1F3A4} Who will Kolokoltsev meet at the UN?', 20_000, 'the transcript');
    await chat.waitForNew((m) => /Sources/.test(textOf(m)), 20_000, 'an answer with sources');
    expect(fake.transcriptions.at(-1)?.fileName).toBe('question.ogg');
  });

  it('refuses a voice note over two minutes without downloading it, in the reader’s language', async () => {
    const chat = h.privateChat(++user, 'Hans', 'de');
    const before = fake.transcriptions.length;
    await chat.sendVoice({ bytes: VOICE.meeting, duration: 121 });
    const [reply] = await chat.waitForReplies(1, 15_000);
    expect(textOf(reply!)).toBe(
      'Diese Sprachnachricht ist 121 s lang; ich nehme höchstens 120 s an. Stell die Frage bitte kürzer oder tippe sie.',
    );
    expect(fake.transcriptions.length).toBe(before);
  });

  it('refuses audio over Telegram’s 20 MB download limit', async () => {
    const chat = h.privateChat(++user);
    await chat.sendVoice({ bytes: VOICE.meeting, duration: 60, fileSize: 25_000_000 });
    const [reply] = await chat.waitForReplies(1, 15_000);
    expect(textOf(reply!)).toMatch(/^That audio file is over 20(\.0)? MB/);
  });

  it('says in one line when the audio cannot be read, and when the service is down', async () => {
    const chat = h.privateChat(++user, 'Олена', 'uk');
    await chat.sendVoice({ bytes: new TextEncoder().encode('not audio at all'), duration: 2 });
    const [unreadable] = await chat.waitForReplies(1, 15_000);
    expect(textOf(unreadable!)).toBe('Не вдалося розібрати це аудіо. Спробуйте ще раз або напишіть запитання.');

    fake.setTranscriber(() => 503);
    try {
      await chat.sendVoice({ bytes: VOICE.meeting, duration: 3 });
      const [down] = await chat.waitForReplies(1, 20_000);
      expect(textOf(down!)).toBe(
        'Сервіс розпізнавання мовлення зараз не відповідає. Напишіть запитання текстом або надішліть голосове ще раз за кілька хвилин.',
      );
    } finally {
      fake.setTranscriber(transcription);
    }
    // Still answering afterwards.
    await chat.sendVoice({ bytes: VOICE.meeting, duration: 3 });
    await chat.waitForNew((m) => /Джерела/.test(textOf(m)), 20_000, 'an answer with sources, labelled in Ukrainian');
  });
});

describe('with no model at all', () => {
  let app: App;
  let h: TelegramHarness;
  let user = 400;

  beforeAll(async () => {
    app = await testApp(articles(), { EMBEDDING_PROVIDER: 'none' });
    await app.library.ensure();
    h = await TelegramHarness.start({ answerer: app.answerer, library: app.library, config: { rateLimitPerMinute: 3 } });
  });
  afterAll(async () => {
    await h?.stop();
    app?.close();
  });

  it('tells a Russian reader in Russian that their language needs a model, offering the closest article, not "not covered"', async () => {
    const chat = h.privateChat(++user, 'Ирина', 'ru');
    await chat.send(RU_QUESTION);
    const reply = await chat.waitForNew(() => true, 15_000, 'a reply');
    const text = textOf(reply);
    expect(text).toContain('Для вопросов на вашем языке нужна модель ответов (LLM) или многоязычная модель эмбеддингов');
    expect(text).toContain('Ближайшие статьи:');
    expect(text).toMatch(SEED_TITLE);
    expect(text).not.toMatch(/don’t cover|don't cover/);
  });

  it('says voice needs a transcription service and how an admin turns it on; voice notes count toward the rate limit', async () => {
    const chat = h.privateChat(++user, 'Ana', 'es');
    await chat.sendVoice({ bytes: VOICE.meeting, duration: 3 });
    const [off] = await chat.waitForReplies(1, 15_000);
    expect(textOf(off!)).toMatch(/^Las preguntas por voz necesitan un servicio de transcripción.*TRANSCRIBE_MODEL/);
    await chat.sendVoice({ bytes: VOICE.meeting, duration: 3 });
    await chat.sendVoice({ bytes: VOICE.meeting, duration: 3 });
    await chat.waitForReplies(2, 15_000);
    await chat.sendVoice({ bytes: VOICE.meeting, duration: 3 });
    const [limited] = await chat.waitForReplies(1, 15_000);
    expect(textOf(limited!)).toMatch(/^Envías mensajes más rápido de lo que puedo responder \(límite: 3 por minuto\)/);
  });
});
