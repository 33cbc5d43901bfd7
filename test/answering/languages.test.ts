/**
 * Questions in another language than the articles': with an answer model the search query is
 * written in the articles' language and the answer in the reader's, with the same citations;
 * without one (and without a multilingual embedding model) the reader is told, in their
 * language, what would make it work, and offered the closest articles instead of "not covered".
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AnswerLanguages,
  CONDENSE_SYSTEM_PROMPT,
  createAnswerer,
  NOTE_LLM_UNAVAILABLE,
  NOT_COVERED_TEXT,
  translatingCondensePrompt,
} from '../../src/answering/index.js';
import type { Passage, RetrievalResult, Retriever, Turn } from '../../src/types.js';
import { createLogger } from '../../src/util/log.js';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.js';
import { FixedRetriever, llmOptions, P_ARRIVAL, SEED_PASSAGES } from './support.js';

const RU_QUESTION = 'С кем проведёт двусторонние встречи Колокольцев?';
const EN_QUERY = 'Who will Kolokoltsev hold bilateral meetings with?';
const RU_ANSWER = 'Колокольцев проведёт двусторонние встречи с Жан-Пьером Лакруа [1].';
const ENGLISH_ARTICLES: AnswerLanguages = { collection: () => ['en'], multilingualRetrieval: false };

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

/** The stand-in model: translates the Russian question into the English query, answers in Russian citing [1]. */
function translatingModel(): void {
  fake.setHandler((req) => {
    const system = req.messages[0]?.content ?? '';
    if (system === translatingCondensePrompt('English')) return EN_QUERY;
    if (system === CONDENSE_SYSTEM_PROMPT) return 'unexpected: condensed without translating';
    return RU_ANSWER;
  });
}

/** Finds passages only for queries that name the seed in Latin letters, as lexical search on English articles does. */
class LatinOnlyRetriever implements Retriever {
  readonly queries: string[] = [];
  constructor(private readonly passages: Passage[] = SEED_PASSAGES) {}
  async retrieve(query: string): Promise<RetrievalResult> {
    this.queries.push(query);
    const hit = /kolokoltsev/i.test(query);
    return { passages: hit ? this.passages : [], notCovered: !hit, mode: 'lexical' };
  }
}

describe('a question in another language, with an answer model', () => {
  it('retrieves with a query the model wrote in English and answers in Russian with the same citations', async () => {
    translatingModel();
    const retriever = new FixedRetriever();
    const qa = createAnswerer({ retriever, llm: llmOptions(fake.url), historyTurns: 6, languages: ENGLISH_ARTICLES });
    const answer = await qa.ask(RU_QUESTION, []);

    expect(retriever.queries).toEqual([EN_QUERY]);
    expect(answer).toMatchObject({ mode: 'llm', query: EN_QUERY, questionLanguage: 'ru', queryLanguage: 'en' });
    expect(answer.text).toContain('Лакруа [1]');
    expect(answer.citations.map((c) => c.articleId)).toEqual([P_ARRIVAL.articleId]);
    const [condense, write] = fake.chatRequests();
    expect(condense?.messages?.at(-1)?.content).toContain(RU_QUESTION);
    // The model is told the answer's language outright: the English sources would pull it into theirs.
    expect(write?.messages?.at(-1)?.content).toContain('Write the answer in Russian');
  });

  it('condenses a Russian follow-up with the conversation and still writes the query in English', async () => {
    fake.setHandler((req) =>
      req.messages[0]?.content === translatingCondensePrompt('English')
        ? 'What did Kolokoltsev ask Lacroix for?'
        : 'Он попросил оценку ООН [1].',
    );
    const retriever = new FixedRetriever();
    const qa = createAnswerer({ retriever, llm: llmOptions(fake.url), historyTurns: 6, languages: ENGLISH_ARTICLES });
    const history: Turn[] = [
      { role: 'user', content: RU_QUESTION },
      { role: 'assistant', content: RU_ANSWER },
    ];
    const answer = await qa.ask('А о чём он попросил его?', history);
    expect(retriever.queries).toEqual(['What did Kolokoltsev ask Lacroix for?']);
    expect(fake.chatRequests()[0]?.messages?.at(-1)?.content).toContain('Лакруа');
    expect(answer.queryLanguage).toBe('en');
  });

  it('leaves an English question as it was: no translation call, the question is the query', async () => {
    translatingModel();
    const retriever = new FixedRetriever();
    const qa = createAnswerer({ retriever, llm: llmOptions(fake.url), historyTurns: 6, languages: ENGLISH_ARTICLES });
    const answer = await qa.ask('Who will Kolokoltsev meet at the UN?', []);
    expect(retriever.queries).toEqual(['Who will Kolokoltsev meet at the UN?']);
    expect(fake.chatRequests()).toHaveLength(1);
    expect(answer).toMatchObject({ questionLanguage: 'en', queryLanguage: 'en' });
    expect(fake.chatRequests()[0]?.messages?.at(-1)?.content).not.toContain('Write the answer in');
  });

  it('writes the answer in the language the reader chose, whatever the question is in', async () => {
    translatingModel();
    const qa = createAnswerer({ retriever: new FixedRetriever(), llm: llmOptions(fake.url), historyTurns: 6, languages: ENGLISH_ARTICLES });
    // An English question from a chat that chose Russian: no translation for search, a Russian answer.
    await qa.ask('Who will Kolokoltsev meet at the UN?', [], { answerLanguage: 'ru', readerLanguage: 'ru' });
    expect(fake.chatRequests()).toHaveLength(1);
    expect(fake.chatRequests()[0]?.messages?.at(-1)?.content).toContain('Write the answer in Russian');
    // A Russian question from a chat that chose English: searched in English, answered in English.
    fake.reset();
    translatingModel();
    await qa.ask(RU_QUESTION, [], { answerLanguage: 'en', readerLanguage: 'en' });
    expect(fake.chatRequests()[0]?.messages?.[0]?.content).toBe(translatingCondensePrompt('English'));
    expect(fake.chatRequests()[1]?.messages?.at(-1)?.content).toContain('Write the answer in English');
  });

  it("writes its own lines in the chosen language, not the question's", async () => {
    fake.setHandler((req) =>
      req.messages[0]?.content === translatingCondensePrompt('English') ? 'Who won the World Cup?' : 'NOT_COVERED',
    );
    const qa = createAnswerer({ retriever: new FixedRetriever(), llm: llmOptions(fake.url), historyTurns: 6, languages: ENGLISH_ARTICLES });
    const answer = await qa.ask('Кто выиграл чемпионат мира по футболу?', [], { answerLanguage: 'de', readerLanguage: 'de' });
    expect(answer.text).toMatch(/^Meine Artikel behandeln das nicht\.\n\nDie nächstliegenden Artikel:/);
  });

  it('says "not covered" in the reader\'s language when the model finds no answer in the sources, with the closest articles', async () => {
    fake.setHandler((req) =>
      req.messages[0]?.content === translatingCondensePrompt('English') ? 'Who won the World Cup?' : 'NOT_COVERED',
    );
    const qa = createAnswerer({ retriever: new FixedRetriever(), llm: llmOptions(fake.url), historyTurns: 6, languages: ENGLISH_ARTICLES });
    const answer = await qa.ask('Кто выиграл чемпионат мира по футболу?', []);
    expect(answer.mode).toBe('not-covered');
    expect(answer.text).toBe(`В моих статьях об этом ничего нет.\n\nБлижайшие статьи:\n\u2022 ${P_ARRIVAL.title} (${P_ARRIVAL.date})`);
  });

  it('retries the translation once the server fails (a follow-up would fall back instead)', async () => {
    let translations = 0;
    fake.setHandler((req) => {
      if (req.messages[0]?.content !== translatingCondensePrompt('English')) return RU_ANSWER;
      return ++translations === 1 ? 503 : EN_QUERY;
    });
    const retriever = new FixedRetriever();
    const qa = createAnswerer({ retriever, llm: llmOptions(fake.url, { maxRetries: 1 }), historyTurns: 6, languages: ENGLISH_ARTICLES });
    await qa.ask(RU_QUESTION, []);
    expect(translations).toBe(2);
    expect(retriever.queries).toEqual([EN_QUERY]);
  });

  it('logs the query retrieval got and its language', async () => {
    translatingModel();
    const lines: string[] = [];
    const logger = createLogger('info', [], (line) => lines.push(line));
    const qa = createAnswerer({
      retriever: new FixedRetriever(),
      llm: llmOptions(fake.url),
      historyTurns: 6,
      languages: ENGLISH_ARTICLES,
      logger,
    });
    await qa.ask(RU_QUESTION, []);
    const event = lines.map((l) => JSON.parse(l)).find((e) => e.event === 'answer.query');
    expect(event).toMatchObject({ query: EN_QUERY, query_lang: 'en', question_lang: 'ru', translated: true });
  });

  it('quotes with the untranslated-quotes note when the model is down, retrieving with the question as asked', async () => {
    fake.setHandler(() => 503);
    const retriever = new FixedRetriever();
    const qa = createAnswerer({
      retriever,
      llm: llmOptions(fake.url, { maxRetries: 0 }),
      historyTurns: 6,
      languages: { ...ENGLISH_ARTICLES, detect: async () => 'es' },
    });
    const answer = await qa.ask('¿Con quién se reunirá Kolokoltsev en la ONU?', []);
    expect(retriever.queries).toEqual(['¿Con quién se reunirá Kolokoltsev en la ONU?']);
    expect(answer.mode).toBe('extractive');
    expect(answer.text.split('\n')[0]).toBe('Las citas siguientes están en el idioma de los artículos (inglés), sin traducir.');
    expect(answer.note).toBe(NOTE_LLM_UNAVAILABLE);
    expect(answer.citations.length).toBeGreaterThan(0);
  });
});

describe('a question in another language, with no answer model', () => {
  it('says in Russian that questions in their language need a model, and offers the article its names find', async () => {
    const retriever = new LatinOnlyRetriever();
    const qa = createAnswerer({ retriever, llm: null, historyTurns: 6, languages: ENGLISH_ARTICLES });
    const answer = await qa.ask(RU_QUESTION, []);
    expect(answer.mode).toBe('not-covered');
    expect(answer.text).not.toContain(NOT_COVERED_TEXT);
    expect(answer.text).toContain('Для вопросов на вашем языке нужна модель ответов (LLM) или многоязычная модель эмбеддингов');
    expect(answer.text).toContain('Вопросы на языке статей (английский) работают уже сейчас');
    expect(answer.text).toContain(`Ближайшие статьи:\n\u2022 ${P_ARRIVAL.title} (${P_ARRIVAL.date})`);
    // The Cyrillic question found nothing; its names spelled in Latin letters found the seed.
    expect(retriever.queries).toEqual([RU_QUESTION, 'S kem provedet dvustoronnie vstrechi Kolokoltsev?']);
  });

  it('says so without a list when no article comes close', async () => {
    const qa = createAnswerer({ retriever: new LatinOnlyRetriever(), llm: null, historyTurns: 6, languages: ENGLISH_ARTICLES });
    const answer = await qa.ask('Wie viele Menschen starben bei dem Erdbeben in der Türkei?', []);
    expect(answer.text).toContain('Fragen in deiner Sprache brauchen ein Antwortmodell (LLM)');
    expect(answer.text).toContain('Kein Artikel kommt dieser Frage nahe.');
  });

  it('quotes what a Spanish question matches, opening with the note that the quotes are untranslated', async () => {
    const qa = createAnswerer({ retriever: new FixedRetriever(), llm: null, historyTurns: 6, languages: ENGLISH_ARTICLES });
    const answer = await qa.ask('¿Kolokoltsev y Lacroix en la UNCOPS-2024?', []);
    expect(answer.mode).toBe('extractive');
    expect(answer.text.split('\n')[0]).toBe('Las citas siguientes están en el idioma de los artículos (inglés), sin traducir.');
    expect(answer.citations.length).toBeGreaterThan(0);
  });

  it("writes its lines in the reader's Telegram language when the detector confuses Russian with Ukrainian", async () => {
    const qa = createAnswerer({
      retriever: new LatinOnlyRetriever([]),
      llm: null,
      historyTurns: 6,
      languages: { ...ENGLISH_ARTICLES, detect: async () => 'uk' },
    });
    expect((await qa.ask('Сколько людей погибло?', [], { readerLanguage: 'ru' })).text).toContain('Для вопросов на вашем языке');
    // With an English client (the articles' language) the question's detected language decides.
    const uk = await qa.ask('Сколько людей погибло?', [], { readerLanguage: 'en' });
    expect(uk.text).toContain('Для запитань вашою мовою');
  });

  it('says "not covered", in the reader\'s language, when a multilingual embedding model did the matching and found nothing', async () => {
    const qa = createAnswerer({
      retriever: new LatinOnlyRetriever(),
      llm: null,
      historyTurns: 6,
      languages: { ...ENGLISH_ARTICLES, multilingualRetrieval: true },
    });
    const answer = await qa.ask('Кто выиграл чемпионат мира по футболу?', []);
    expect(answer.mode).toBe('not-covered');
    expect(answer.text).toBe('В моих статьях об этом ничего нет.\n\nБлизких к вопросу статей не нашлось.');
  });

  it('treats a question in one of the collection languages as theirs', async () => {
    const qa = createAnswerer({
      retriever: new LatinOnlyRetriever(),
      llm: null,
      historyTurns: 6,
      languages: { ...ENGLISH_ARTICLES, collection: () => ['ru', 'en'] },
    });
    const answer = await qa.ask(RU_QUESTION, []);
    expect(answer.text).toContain(NOT_COVERED_TEXT);
    expect(answer.questionLanguage).toBe('ru');
  });
});
