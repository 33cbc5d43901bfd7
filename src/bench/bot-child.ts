/**
 * The bot process of the bot benchmark (started by `bot.ts`): the real `createBot` over the real
 * library, answering either through the real answerer (lexical retrieval + the instant fake LLM)
 * or through an answerer that returns a fixed cited answer at once, which isolates the bot's own
 * cost. It polls the benchmark's Telegram emulator like it would poll Telegram.
 */
import { createApp } from '../app.js';
import { createBot } from '../bot/index.js';
import type { Config } from '../config/index.js';
import type { Answer, AnswerStream, Library, QuestionAnswerer } from '../types.js';
import { createLogger, silentLogger } from '../util/log.js';
import { PeakRssSampler } from './memory.js';
import { errorMessage } from '../util/errors.js';

/** How the parent configures the bot process. */
export interface BotChildInput {
  mode: 'bot-only' | 'bot+answering';
  /** PostgreSQL (`config.database.url` set): the child builds the index in the database and keeps the bot's state there. */
  store: 'embedded' | 'postgres';
  /** Full product config (articles, index, LLM base URL already pointed at the benchmark's servers). */
  config: Config;
  token: string;
  stateDir: string;
}

/** Messages from the bot process to the parent. */
export type BotChildMessage = { type: 'ready' } | { type: 'error'; error: string } | { type: 'stopped'; peakRssBytes: number };

process.once('message', (message: unknown) => {
  void run((message as { input: BotChildInput }).input);
});

async function run(input: BotChildInput): Promise<void> {
  try {
    const sampler = new PeakRssSampler();
    const app = await createApp(input.config, silentLogger);
    if (input.store === 'postgres') {
      // The scratch database starts empty: index the articles into it.
      await app.library.ensure();
    } else {
      const failure = await app.library.open();
      if (failure) throw new Error(failure.message);
    }
    const answerer = input.mode === 'bot-only' ? instantAnswerer(app.library) : app.answerer;
    const handle = createBot({
      token: input.token,
      config: input.config.telegram,
      intake: input.config.intake,
      // In PostgreSQL mode the app keeps the bot's state in the database.
      state: app.state.bot,
      answerer,
      library: app.library,
      // Production logs one JSON line per answer at info level: keep the formatting cost, drop the I/O.
      logger: createLogger('info', [], () => {}),
      secrets: [],
    });
    const running = handle.start();
    running.catch(() => undefined);
    await Promise.race([handle.ready, running]);
    send({ type: 'ready' });
    process.once('message', () => {
      void (async () => {
        await handle.stop();
        await running.catch(() => undefined);
        app.close();
        send({ type: 'stopped', peakRssBytes: await sampler.stop() }, 0);
      })();
    });
  } catch (err) {
    send({ type: 'error', error: errorMessage(err) }, 1);
  }
}

function send(message: BotChildMessage, exitCode?: number): void {
  process.send?.(message, undefined, undefined, () => {
    if (exitCode !== undefined) process.exit(exitCode);
  });
}

/** An answerer that returns a fixed answer citing the first article, with no retrieval and no LLM. */
function instantAnswerer(library: Library): QuestionAnswerer {
  const article = library.listArticles(0, 1).items[0];
  const quote = 'The article reports the facts the question asks about.';
  const answer = (question: string): Answer => ({
    text: 'According to the first source, the article covers this question directly [1].',
    citations: article ? [{ n: 1, articleId: article.id, title: article.title, date: article.date, url: article.url, quote }] : [],
    mode: 'llm',
    query: question,
    passages: article
      ? [
          {
            articleId: article.id,
            title: article.title,
            date: article.date,
            url: article.url,
            source: null,
            chunkIds: [`${article.id}#0`],
            start: 0,
            end: quote.length,
            text: quote,
            score: 1,
          },
        ]
      : [],
  });
  return {
    ask: async (question) => answer(question),
    askStream: (question): AnswerStream => {
      const a = answer(question);
      return {
        text: (async function* () {
          yield a.text;
        })(),
        result: Promise.resolve(a),
      };
    },
  };
}
