/** The help texts: the general usage (`--help`) and each command's own (`<command> --help`). */

export const USAGE = `Usage (npm run <command> -- <options>, or npx newsdesk <command> <options>):
  npm start                      sync the index with ARTICLES_DIR, then run the Telegram bot
                                 (TELEGRAM_BOT_TOKEN set) or the terminal chat
  npm run index [-- --full]      index the articles folder (incremental; --full rebuilds)
  npm run index -- --feeds       poll every feed (FEED_URLS, /feed add) once and index what is new
  npm run reindex                rebuild the whole index (same as index -- --full)
  npm run ask -- "question" [--json]
  npm run chat                   terminal chat with follow-ups (/help, /reset, /sources, /quit)
  npm run worker                 embedding worker: takes embedding work from PostgreSQL (DATABASE_URL)
  npm run gaps -- [--days 7] [--json | --csv]
                                 what readers asked that the articles do not answer, by topic
start, chat, ask and index refuse to remove every article, or more than half of them, from the
index (an empty or wrong ARTICLES_DIR); --allow-mass-delete confirms such a run.
  npm run eval [-- --help]       retrieval and answer evaluation
  npm run bench [-- --quick]     performance benchmark
Every command takes --help (-h) for its own options.

${modelNote()}

${logNote()}`;

function modelNote(): string {
  return `Semantic search needs the embedding model (EMBEDDING_MODEL, default Xenova/bge-small-en-v1.5, about
34 MB). It downloads into MODEL_CACHE_DIR on first use. Without internet, copy the model's folder
(config.json, tokenizer.json, tokenizer_config.json, onnx/model_quantized.onnx) to
LOCAL_MODEL_DIR/<model id>/ (with ALLOW_REMOTE_MODELS=false nothing is downloaded). Until the model
loads, every command says "lexical-only search" once and answers from keyword (BM25) search; run
the index again once the model is there, and the index is rebuilt with vectors.`;
}

function logNote(): string {
  return 'JSON log lines go to STATE_DIR/newsdesk.log for these commands (the Telegram bot: stderr); see LOG_FILE.\nDEBUG=1 also prints the stack of an unexpected error.';
}

const MASS_DELETE = `  --allow-mass-delete   confirm a run that removes every indexed article, or more than half of
                        them (otherwise refused: an empty or wrong ARTICLES_DIR)`;

/** Each command's own help: what it does, its options, then the model and log notes. */
const COMMANDS: Record<string, string> = {
  start: `Usage: npm start [-- --allow-mass-delete]   (npx newsdesk start)
Syncs the index with ARTICLES_DIR, then runs the Telegram bot when TELEGRAM_BOT_TOKEN is set (long
polling, or a webhook with WEBHOOK_URL), else the terminal chat.
${MASS_DELETE}`,
  index: `Usage: npm run index -- [--full] [--feeds] [--allow-mass-delete]   (npx newsdesk index)
Indexes ARTICLES_DIR: only what was added, changed or removed since the last run.
  --full                rebuild the whole index (also: npm run reindex)
  --feeds               poll every feed (FEED_URLS, /feed add) once and index what is new
${MASS_DELETE}`,
  ask: `Usage: npm run ask -- "question" [--json] [--allow-mass-delete]   (npx newsdesk ask)
Syncs the index with ARTICLES_DIR, answers one question with citations, and exits.
  --json                print the answer, citations included, as JSON
${MASS_DELETE}`,
  chat: `Usage: npm run chat [-- --allow-mass-delete]   (npx newsdesk chat)
Syncs the index with ARTICLES_DIR, then a terminal chat with follow-ups. In the chat: /help,
/reset (forget the conversation), /sources (the last answer's articles), /quit.
${MASS_DELETE}`,
  gaps: `Usage: npm run gaps -- [--days 7] [--json | --csv]   (npx newsdesk gaps)
What readers asked in the last days that the articles do not answer (not covered, answered without
a source, or 👎), grouped into topics: readers, questions, the trend, examples; never who asked.
  --days N              the period (1 to 365, default 7)
  --json, --csv         for tools or a spreadsheet instead of text`,
  worker: `Usage: npm run worker   (npx newsdesk worker)
An embedding worker: takes embedding work that indexing queued in PostgreSQL (DATABASE_URL) and
writes the vectors back, until SIGINT/SIGTERM. Run one or more beside the bots. No options.`,
};

/** The help for `command` (its own when it has one), else the general usage. */
export function commandHelp(command: string | undefined): string {
  const own = command ? COMMANDS[command] : undefined;
  if (!own) return USAGE;
  const model = command === 'worker' ? '' : `\n\n${modelNote()}`;
  return `${own}${model}\n\n${logNote()}\n\nnpx newsdesk --help lists every command.`;
}
