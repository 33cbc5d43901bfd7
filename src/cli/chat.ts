/**
 * Terminal chat over the same answerer the bot uses. Interactive on a terminal; when stdin is
 * piped it answers one question per input line (keeping follow-up context), so it can be scripted.
 */
import readline from 'node:readline';
import type { App } from '../app.js';
import type { Answer, Turn } from '../types.js';
import { formatAnswerText, formatQuotes, llmFailureNote } from './format.js';

const CHAT_HELP = `Commands:
  /help      this list
  /reset     forget the conversation (follow-ups start over)
  /sources   the quotes behind the last answer
  /quit      leave (also /exit, or Ctrl-D)
Anything else is a question about the articles.`;

/** Runs the chat loop until end of input or `/quit`; notes (a failing answer model) go to `notes`. */
export async function runChat(
  app: App,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  notes: NodeJS.WritableStream = process.stderr,
): Promise<void> {
  const interactive = (input as NodeJS.ReadStream).isTTY === true;
  const rl = readline.createInterface({ input, output, terminal: interactive });
  const history: Turn[] = [];
  let last: Answer | null = null;
  // A failing model is said once, and again only when the reason changes.
  let lastFailure: string | null = null;
  const say = (s: string) => output.write(s + '\n');
  if (interactive) {
    const s = app.library.stats();
    say(
      `Ask about ${s.articles} article${s.articles === 1 ? '' : 's'}${s.firstDate ? ` (${s.firstDate} to ${s.lastDate})` : ''}. Commands: /help, /reset, /sources, /quit.`,
    );
    rl.setPrompt('> ');
    rl.prompt();
  }
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === '/quit' || line === '/exit') break;
    if (line === '') {
      if (interactive) rl.prompt();
      continue;
    }
    if (line === '/reset') {
      history.length = 0;
      last = null;
      say('Conversation reset.');
    } else if (line === '/sources') {
      say(last ? formatQuotes(last) : 'Ask a question first.');
    } else if (line === '/help') {
      say(CHAT_HELP);
    } else if (/^\/[A-Za-z]\w*(\s|$)/.test(line)) {
      // A slash word is a command, never a question: answering "/foo" would quote whatever matches "foo".
      say(`Unknown command: ${line.split(/\s/, 1)[0]}. Try /help`);
    } else {
      if (!interactive) say(`> ${line}`);
      let answer: Answer;
      try {
        answer = await app.answerer.ask(line, history);
      } catch (err) {
        await app.desk.record({ text: line, outcome: 'failed', chatType: 'terminal' });
        throw err;
      }
      await app.desk.record({ text: line, outcome: 'answered', chatType: 'terminal', answer });
      last = answer;
      history.push({ role: 'user', content: line }, { role: 'assistant', content: answer.text });
      // Memory is bounded here too; the answerer trims further to HISTORY_TURNS.
      if (history.length > 40) history.splice(0, history.length - 40);
      const note = llmFailureNote(answer, app.config.llm);
      if (note && note !== lastFailure) notes.write(`${note}\n`);
      lastFailure = note;
      say(formatAnswerText(answer, (id) => app.library.articleLocation?.(id) ?? null));
      say('');
    }
    if (interactive) rl.prompt();
  }
  rl.close();
}
