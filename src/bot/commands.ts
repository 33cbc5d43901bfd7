/**
 * Commands everyone can use (/start, /help, /sources with its paging buttons, /reset; /language is
 * in language.ts), and the replies to what no feature handled: unknown commands, old buttons,
 * messages that are not text. Every line is in the chat's language (`tr(ctx)`, locales/*.ftl).
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
import { isAdmin } from './access.js';
import { callbackPattern } from './callbacks.js';
import type { BotDeps } from './deps.js';
import { escapeHtml, renderSourcesPage } from './format.js';
import { leadingCommand } from './groups.js';
import { tr } from './language.js';
import { editHtml, sendHtml } from './send.js';
import type { Translate } from '../i18n/index.js';
import { truncate } from '../util/text.js';

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
  const t = tr(ctx);
  const group = ctx.chat.type !== 'private';
  const [first, second] = exampleQuestions(deps, t).map((q) => `<i>${escapeHtml(q)}</i>`);
  const ask = group
    ? t('ask-in-group', { bot: escapeHtml(ctx.me.username) })
    : second
      ? t('ask-example-two', { first: first!, second })
      : first
        ? t('ask-example-one', { first })
        : t('ask-plain');
  return `${ask}\n${t('ask-follow-ups')}`;
}

/** Longest title quoted in an example question. */
const EXAMPLE_TITLE_CHARS = 60;

/**
 * Up to two example questions about the newest articles' titles, so they fit whatever the archive
 * holds (a fixed example named a mayor the archive may never mention).
 */
function exampleQuestions(deps: BotDeps, t: Translate): string[] {
  // The listing is newest first; sorting again keeps that true for any library.
  const newest = deps.library
    .listArticles(0, 20)
    .items.filter((a) => a.title.trim() !== '')
    .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
  const titles = [...new Set(newest.map((a) => truncate(a.title, EXAMPLE_TITLE_CHARS)))].slice(0, 2);
  return titles.map((title) => t('example-question', { title }));
}

/** /start: what the bot knows (article count and date range) and how to ask. */
async function start(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const t = tr(ctx);
  const s = deps.library.stats();
  const count = s.articles;
  const knows =
    count === 0
      ? t('start-empty')
      : !s.firstDate || !s.lastDate
        ? t('start-knows', { count })
        : s.firstDate === s.lastDate
          ? t('start-knows-on', { count, date: escapeHtml(s.lastDate) })
          : t('start-knows-between', { count, first: escapeHtml(s.firstDate), last: escapeHtml(s.lastDate) });
  const text = [knows, '', howToAsk(ctx, deps), '', t('start-commands')].join('\n');
  await sendHtml(ctx.api, ctx.chat.id, text, { log: deps.log });
}

/** /help: how to ask, what the answer looks like, and the commands (admin ones for admins). */
async function help(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const t = tr(ctx);
  const lines = [
    t('help-title'),
    howToAsk(ctx, deps),
    '',
    t('help-answers'),
    '',
    t('help-sources'),
    t('help-reset'),
    t('help-forgetme'),
    t('help-follow'),
    t('help-language'),
    t('help-inline', { bot: escapeHtml(ctx.me.username) }),
  ];
  if (isAdmin(deps.config, ctx.from?.id)) {
    lines.push(
      '',
      t('help-admin-title'),
      ...['reindex', 'add', 'remove', 'stats', 'feeds', 'audit', 'gaps'].map((command) => t(`help-admin-${command}`)),
    );
  }
  await sendHtml(ctx.api, ctx.chat.id, lines.join('\n'), { log: deps.log });
}

function sourcesKeyboard(offset: number, pageSize: number, total: number, t: Translate): InlineKeyboard | undefined {
  const kb = new InlineKeyboard();
  if (offset > 0) kb.text(t('sources-previous'), `${SOURCES_PREFIX}${Math.max(0, offset - pageSize)}`);
  if (offset + pageSize < total) kb.text(t('sources-next'), `${SOURCES_PREFIX}${offset + pageSize}`);
  return kb.inline_keyboard[0]?.length ? kb : undefined;
}

function sourcesPage(deps: BotDeps, wanted: number, t: Translate): { html: string; keyboard: InlineKeyboard | undefined } {
  const size = deps.tuning.sourcesPageSize;
  let page = deps.library.listArticles(wanted, size);
  let offset = wanted;
  if (page.items.length === 0 && page.total > 0) {
    // The list shrank since the buttons were drawn: show the last page instead of an empty one.
    offset = Math.floor((page.total - 1) / size) * size;
    page = deps.library.listArticles(offset, size);
  }
  return { html: renderSourcesPage(page, offset, t), keyboard: sourcesKeyboard(offset, size, page.total, t) };
}

/** /sources: the first page of indexed articles with paging buttons. */
async function sources(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const { html, keyboard } = sourcesPage(deps, 0, tr(ctx));
  await sendHtml(ctx.api, ctx.chat.id, html, { log: deps.log, ...(keyboard ? { keyboard } : {}) });
}

/** A paging button under /sources: edits the list in place. */
async function turnSourcesPage(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  const offset = Number(ctx.callbackQuery.data.slice(SOURCES_PREFIX.length)) || 0;
  const message = ctx.callbackQuery.message;
  await ctx.answerCallbackQuery().catch(() => undefined);
  if (!message) return;
  const { html, keyboard } = sourcesPage(deps, offset, tr(ctx));
  await editHtml(ctx.api, message.chat.id, message.message_id, html, { log: deps.log, ...(keyboard ? { keyboard } : {}) });
}

/** /reset: forgets this chat's conversation. */
async function reset(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  await deps.conversations.reset(ctx.chat.id);
  await ctx.reply(tr(ctx)('reset-done'));
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
  const t = tr(ctx);
  await ctx.reply(
    /^[a-z0-9_]{1,32}$/.test(command.name) ? t('unknown-command', { command: `/${command.name}` }) : t('unknown-command-unnamed'),
  );
}

/** Anything that is not text (photos, stickers, voice…). */
async function nonText(ctx: Context): Promise<void> {
  await ctx.reply(tr(ctx)('not-text'));
}

/** A button whose data no handler knows (for example from an older version of the bot). */
async function staleButton(ctx: Context): Promise<void> {
  await ctx.answerCallbackQuery({ text: tr(ctx)('stale-button') });
}
