/**
 * Commands everyone can use (/start, /help, /sources with its paging buttons, /reset), and
 * the replies to what no feature handled: unknown commands, old buttons, messages that are not text.
 */
import {
  type CallbackQueryContext,
  type CommandContext,
  Composer,
  type Context,
  type Filter,
  InlineKeyboard,
  type NextFunction,
} from 'grammy';
import type { BotCommand } from 'grammy/types';
import { isAdmin } from './access.js';
import { callbackPattern } from './callbacks.js';
import type { BotDeps } from './deps.js';
import { escapeHtml, renderSourcesPage } from './format.js';
import { leadingCommand } from './groups.js';
import { editHtml, sendHtml } from './send.js';
import { truncate } from '../util/text.js';

/** Commands shown to everyone in Telegram's menu. */
export const PUBLIC_COMMANDS: BotCommand[] = [
  { command: 'start', description: 'What I know and how to ask' },
  { command: 'help', description: 'How to use this bot' },
  { command: 'sources', description: 'List the indexed articles' },
  { command: 'reset', description: 'Forget our conversation' },
  { command: 'forgetme', description: 'Delete the questions I logged from you' },
  { command: 'follow', description: 'Get alerts on a topic: /follow <topic>' },
  { command: 'following', description: 'The topics you follow' },
  { command: 'unfollow', description: 'Stop following a topic' },
];

/** Prefix of /sources paging buttons' callback_data. */
const SOURCES_PREFIX = 's:';

/** The public commands, and the /sources paging buttons. */
export function commands(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.command('start', (ctx) => start(ctx, deps));
  composer.command('help', (ctx) => help(ctx, deps));
  composer.command('sources', (ctx) => sources(ctx, deps));
  composer.command('reset', (ctx) => reset(ctx, deps));
  // At most 9 digits: a forged huge offset would overflow SQLite's OFFSET; it falls through to staleButton.
  composer.callbackQuery(callbackPattern(SOURCES_PREFIX, '\\d{1,9}'), (ctx) => turnSourcesPage(ctx, deps));
  return composer;
}

/** Installed last: buttons no handler knows, and messages that are not text. */
export function leftovers(): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on('callback_query', staleButton);
  composer.on('message', nonText);
  return composer;
}

function howToAsk(ctx: CommandContext<Context>, deps: BotDeps): string {
  const group = ctx.chat.type !== 'private';
  const examples = exampleQuestions(deps).map((q) => `<i>${escapeHtml(q)}</i>`);
  const ask = group
    ? `Mention me (@${escapeHtml(ctx.me.username)}) with your question, or reply to one of my messages.`
    : examples.length > 0
      ? `Just type a question, for example: ${examples.join(' or ')}`
      : 'Just type a question.';
  return `${ask}\nFollow-up questions work too; reply to one of my older answers to continue from it.`;
}

/** Longest title quoted in an example question. */
const EXAMPLE_TITLE_CHARS = 60;

/**
 * Up to two example questions about the newest articles' titles, so they fit whatever the archive
 * holds (a fixed example named a mayor the archive may never mention).
 */
function exampleQuestions(deps: BotDeps): string[] {
  // The listing is newest first; sorting again keeps that true for any library.
  const newest = deps.library
    .listArticles(0, 20)
    .items.filter((a) => a.title.trim() !== '')
    .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
  const titles = [...new Set(newest.map((a) => truncate(a.title, EXAMPLE_TITLE_CHARS)))].slice(0, 2);
  return titles.map((t) => `What do the articles say about “${t}”?`);
}

/** /start: what the bot knows (article count and date range) and how to ask. */
async function start(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const s = deps.library.stats();
  const range =
    !s.firstDate || !s.lastDate
      ? ''
      : s.firstDate === s.lastDate
        ? `, published ${s.lastDate}`
        : `, published ${s.firstDate} to ${s.lastDate}`;
  const knows =
    s.articles > 0
      ? `Hi! I answer questions about <b>${s.articles}</b> news article${s.articles === 1 ? '' : 's'}${escapeHtml(range)}, and cite the articles I used.`
      : 'Hi! I answer questions about news articles, but none are indexed yet.';
  const text = [knows, '', howToAsk(ctx, deps), '', '/sources lists the articles · /reset starts over · /help'].join('\n');
  await sendHtml(ctx.api, ctx.chat.id, text, { log: deps.log });
}

/** /help: how to ask, what the answer looks like, and the commands (admin ones for admins). */
async function help(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const lines = [
    '<b>How to use me</b>',
    howToAsk(ctx, deps),
    '',
    'Answers cite their sources as [1], [2]… with a Sources list below; tap <i>Show quotes</i> to see the passages.',
    '',
    '/sources — list the indexed articles',
    '/reset — forget our conversation and start over',
    '/forgetme — delete your logged questions and our conversation',
    '/follow &lt;topic&gt; — an alert when a new article on it arrives; /following, /unfollow',
    `In any chat, type <code>@${escapeHtml(ctx.me.username)} words</code> to find an article and share it.`,
  ];
  if (isAdmin(deps.config, ctx.from?.id)) {
    lines.push(
      '',
      '<b>Admin</b>',
      '/reindex — pick up changed articles (/reindex full rebuilds everything)',
      '/add &lt;url&gt; — fetch and add an article; or upload a .txt, .md, .html or .pdf file',
      '/remove &lt;id&gt; — delete an article (ids are in /sources)',
      '/stats — index and bot statistics',
      '/feeds — feed subscriptions and their state; /feed add &lt;url&gt;, /feed remove &lt;url&gt;',
      '/audit — who added, removed or reindexed what, and when',
      '/gaps [days] — what readers asked that the articles do not answer',
    );
  }
  await sendHtml(ctx.api, ctx.chat.id, lines.join('\n'), { log: deps.log });
}

function sourcesKeyboard(offset: number, pageSize: number, total: number): InlineKeyboard | undefined {
  const kb = new InlineKeyboard();
  if (offset > 0) kb.text('‹ Previous', `${SOURCES_PREFIX}${Math.max(0, offset - pageSize)}`);
  if (offset + pageSize < total) kb.text('Next ›', `${SOURCES_PREFIX}${offset + pageSize}`);
  return kb.inline_keyboard[0]?.length ? kb : undefined;
}

function sourcesPage(deps: BotDeps, wanted: number): { html: string; keyboard: InlineKeyboard | undefined } {
  const size = deps.tuning.sourcesPageSize;
  let page = deps.library.listArticles(wanted, size);
  let offset = wanted;
  if (page.items.length === 0 && page.total > 0) {
    // The list shrank since the buttons were drawn: show the last page instead of an empty one.
    offset = Math.floor((page.total - 1) / size) * size;
    page = deps.library.listArticles(offset, size);
  }
  return { html: renderSourcesPage(page, offset), keyboard: sourcesKeyboard(offset, size, page.total) };
}

/** /sources: the first page of indexed articles with paging buttons. */
async function sources(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const { html, keyboard } = sourcesPage(deps, 0);
  await sendHtml(ctx.api, ctx.chat.id, html, { log: deps.log, ...(keyboard ? { keyboard } : {}) });
}

/** A paging button under /sources: edits the list in place. */
async function turnSourcesPage(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  const offset = Number(ctx.callbackQuery.data.slice(SOURCES_PREFIX.length)) || 0;
  const message = ctx.callbackQuery.message;
  await ctx.answerCallbackQuery().catch(() => undefined);
  if (!message) return;
  const { html, keyboard } = sourcesPage(deps, offset);
  await editHtml(ctx.api, message.chat.id, message.message_id, html, { log: deps.log, ...(keyboard ? { keyboard } : {}) });
}

/** /reset: forgets this chat's conversation. */
async function reset(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  await deps.conversations.reset(ctx.chat.id);
  await ctx.reply('Done: I have forgotten our conversation. Ask me anything.');
}

/**
 * A command nobody handled: in private chats, or addressed to this bot by name,
 * a hint; bare unknown commands in groups may belong to other bots and are ignored.
 * A "/" that is not a leading command is a question and passes on.
 */
export async function unknownCommand(ctx: Filter<Context, 'message:text'>, next: NextFunction): Promise<void> {
  const command = leadingCommand(ctx.msg);
  if (!command) return next();
  if (ctx.chat.type !== 'private' && command.target === null) return;
  // Echo only what could be a real command name: anything else may be too long to send or not valid UTF-8.
  const name = /^[a-z0-9_]{1,32}$/.test(command.name) ? `/${command.name}` : 'that command';
  await ctx.reply(`I don't know ${name}. Try /help.`);
}

/** Anything that is not text (photos, stickers, voice…). */
async function nonText(ctx: Context): Promise<void> {
  await ctx.reply('I can only read text messages. Please type your question.');
}

/** A button whose data no handler knows (for example from an older version of the bot). */
async function staleButton(ctx: Context): Promise<void> {
  await ctx.answerCallbackQuery({ text: 'This button no longer works. Please try the command again.' });
}
