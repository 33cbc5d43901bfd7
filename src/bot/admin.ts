/**
 * Admin commands: keeping the article collection current from the chat.
 * Every command runs behind `adminOnly`, which checks the numeric user id on
 * each call; a reindex runs in the background so the admin's chat stays usable
 * and a second one is refused while the library reports one running.
 */
import {
  type Api,
  type CallbackQueryContext,
  type CommandContext,
  Composer,
  type Context,
  type Filter,
  InlineKeyboard,
  type NextFunction,
} from 'grammy';
import type { OwnJob, ReindexJob as SharedJob } from '../db/reindex-jobs.js';
import type { ArticleInfo, IndexProgress, IndexSummary } from '../types.js';
import { DatabaseUnavailableError, MassDeleteError, UserError } from '../util/errors.js';
import { isAdmin } from './access.js';
import { callbackPattern } from './callbacks.js';
import type { BotDeps } from './deps.js';
import { renderDeskStatsHtml } from './desk-format.js';
import { downloadFile, tooLargeMessage } from './files.js';
import { escapeHtml, formatDuration, link, renderAuditHtml, renderProgress, renderStatsHtml, renderSummaryHtml } from './format.js';
import { tr } from './language.js';
import { errorFields } from './logging.js';
import { editHtml, sendHtml, sendPlain } from './send.js';
import { startTyping } from './stream.js';
import { LatestThrottle } from './throttle.js';

/** Days of questions /stats sums up. */
const STATS_DAYS = 7;

/** Entries /audit shows. */
const AUDIT_SHOWN = 20;

/**
 * Prefix of the "Confirm" button under a /reindex the library refused because it would remove most
 * articles; followed by `full` or `inc` (which reindex to rerun with the guard lifted).
 */
export const REINDEX_CONFIRM_PREFIX = 'rc:';

/** File types an upload may have. */
const UPLOAD_EXTENSIONS = ['.txt', '.md', '.markdown', '.html', '.htm', '.pdf'];

/** The admin commands (each behind `adminOnly`), and uploads, which admins add as articles. */
export function admin(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const requireAdmin = adminOnly(deps);
  composer.command('reindex', requireAdmin, (ctx) => reindex(ctx, deps));
  composer.command('add', requireAdmin, (ctx) => addUrl(ctx, deps));
  composer.command('remove', requireAdmin, (ctx) => remove(ctx, deps));
  composer.command('stats', requireAdmin, (ctx) => stats(ctx, deps));
  composer.command('audit', requireAdmin, (ctx) => audit(ctx, deps));
  composer.callbackQuery(callbackPattern(REINDEX_CONFIRM_PREFIX, 'full|inc'), (ctx) => confirmReindex(ctx, deps));
  composer.on('message:document', (ctx) => addDocument(ctx, deps));
  return composer;
}

/** Guard for admin commands: refuses everyone whose user id is not configured as admin. */
export function adminOnly(deps: BotDeps) {
  return async function requireAdmin(ctx: Context, next: NextFunction): Promise<void> {
    if (isAdmin(deps.config, ctx.from?.id)) return next();
    deps.log.info('bot.admin_refused', { update_id: ctx.update.update_id, user_id: ctx.from?.id });
    await ctx.reply(tr(ctx)('admins-only'));
  };
}

/** /reindex and /reindex full: starts a background reindex with a progress message. */
async function reindex(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const arg = ctx.match.trim().toLowerCase();
  if (arg !== '' && arg !== 'full') {
    await ctx.reply('Usage: /reindex (changed articles only) or /reindex full (rebuild everything).');
    return;
  }
  const running = deps.library.reindexStatus();
  if (running) {
    const ago = formatDuration(Date.now() - running.startedAt);
    await ctx.reply(`A reindex is already running (started ${ago} ago). I'll post its summary when it finishes.`);
    return;
  }
  const full = arg === 'full';
  const admin = adminOf(ctx);
  // With replicas, the shared jobs table decides who runs it: one run, every starter told.
  const claim = deps.reindexJobs ? await deps.reindexJobs.claim(full, `${admin.userName ?? 'admin'} (${admin.userId})`) : null;
  if (claim && 'running' in claim) {
    await followElsewhere(ctx, deps, claim.running);
    return;
  }
  const own = claim?.own;
  let progress: { message_id: number };
  try {
    progress = await ctx.reply(renderProgress(full, null));
  } catch (err) {
    await own?.finish('failed', 'could not report progress to Telegram', null).catch(() => undefined);
    throw err;
  }
  const job = {
    api: ctx.api,
    chatId: ctx.chat.id,
    replyTo: ctx.msg.message_id,
    progressId: progress.message_id,
    full,
    admin,
    own,
    confirmed: false,
  };
  deps.jobs.track(runReindex(job, deps));
}

/**
 * Another replica runs a reindex (PostgreSQL mode): say so, and post its report here too when it
 * ends, so the admin who asked learns the outcome like the one who started it.
 */
async function followElsewhere(ctx: CommandContext<Context>, deps: BotDeps, running: SharedJob): Promise<void> {
  const ago = formatDuration(Math.max(0, Date.now() - running.startedAt));
  await ctx.reply(
    `A ${running.full ? 'full ' : ''}reindex is already running (started ${ago} ago by ${running.startedBy}). I'll post its summary when it finishes.`,
  );
  const { api, chat } = ctx;
  const replyTo = ctx.msg.message_id;
  const report = async () => {
    const done = await deps.reindexJobs?.waitFor(running.id);
    if (!done) return;
    if (done.report) await sendHtml(api, chat.id, done.report, { log: deps.log, replyTo });
    else await sendPlain(api, chat.id, `The reindex ${done.state === 'done' ? 'finished' : `failed: ${done.outcome ?? 'see the log'}`}.`);
  };
  report().catch((err) => deps.log.warn('bot.reindex_report_failed', { chat_id: chat.id, error: errorFields(err) }));
}

/**
 * The "Confirm" button under a refused /reindex: admins only (checked on the presser's id, since
 * anyone in a group sees the button). Turns the message back into the progress message and reruns
 * the reindex with the mass-delete guard lifted; nothing was removed before this press.
 */
async function confirmReindex(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  const message = ctx.callbackQuery.message;
  if (!isAdmin(deps.config, ctx.from.id)) {
    deps.log.info('bot.admin_refused', { update_id: ctx.update.update_id, user_id: ctx.from.id });
    await ctx.answerCallbackQuery({ text: 'Only the bot’s admins can confirm a reindex.', show_alert: true });
    return;
  }
  const running = deps.library.reindexStatus();
  if (!message || running) {
    const text = running
      ? 'A reindex is already running; I’ll post its summary when it finishes.'
      : 'That message is too old; send /reindex again.';
    await ctx.answerCallbackQuery({ text, show_alert: true });
    return;
  }
  const full = ctx.callbackQuery.data.slice(REINDEX_CONFIRM_PREFIX.length) === 'full';
  const admin = adminOf(ctx);
  // With replicas, the shared jobs table decides who runs it, as for /reindex.
  const claim = deps.reindexJobs ? await deps.reindexJobs.claim(full, `${admin.userName ?? 'admin'} (${admin.userId})`) : null;
  if (claim && 'running' in claim) {
    await ctx.answerCallbackQuery({ text: `A reindex is already running (started by ${claim.running.startedBy}).`, show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery().catch(() => undefined);
  deps.log.info('bot.mass_delete_confirmed', { user_id: ctx.from.id, full });
  // Editing the text without a keyboard removes the button, so it cannot be pressed twice.
  try {
    await editHtml(ctx.api, message.chat.id, message.message_id, escapeHtml(renderProgress(full, null)), { log: deps.log });
  } catch (err) {
    await claim?.own.finish('failed', 'could not report progress to Telegram', null).catch(() => undefined);
    throw err;
  }
  const chatId = message.chat.id;
  const job = {
    api: ctx.api,
    chatId,
    replyTo: message.message_id,
    progressId: message.message_id,
    full,
    admin,
    own: claim?.own,
    confirmed: true,
  };
  deps.jobs.track(runReindex(job, deps));
}

/** What the admin reads when the library refused a reindex that would remove most articles. */
function massDeleteHtml(err: MassDeleteError): string {
  const what = err.removed === err.indexed ? `all ${err.indexed}` : `${err.removed} of the ${err.indexed}`;
  return [
    `<b>Reindex not run:</b> it would remove ${what} indexed articles, because the articles folder holds ${err.inFolder} now.`,
    'Nothing was removed. If the folder is wrong, fix it (ARTICLES_DIR) and /reindex again; if the removal is intended, press Confirm.',
  ].join('\n');
}

/** A reindex started from the chat: where its progress and outcome are reported. */
interface ReindexJob {
  api: Api;
  chatId: number;
  /** The /reindex message the summary replies to. */
  replyTo: number;
  /** The message edited with progress, then with the outcome. */
  progressId: number;
  full: boolean;
  /** Who started it, for the audit trail. */
  admin: Admin;
  /** The shared job row this run owns (PostgreSQL mode), finished with its outcome. */
  own: OwnJob | undefined;
  /** True when an admin confirmed removing most articles (the library's mass-delete guard is lifted). */
  confirmed: boolean;
}

async function runReindex(job: ReindexJob, deps: BotDeps): Promise<void> {
  const { api, chatId, replyTo, progressId, full, confirmed } = job;
  const action = `${full ? 'reindex full' : 'reindex'}${confirmed ? ' (removal confirmed)' : ''}`;
  const showProgress = async (p: IndexProgress) => {
    await editHtml(api, chatId, progressId, escapeHtml(renderProgress(full, p)), { log: deps.log });
  };
  const throttle = new LatestThrottle<IndexProgress>(deps.tuning.editIntervalMs, showProgress);
  const started = Date.now();
  let outcome: string;
  let outcomeHtml: string | null = null;
  let summaryHtml: string | null = null;
  try {
    const summary = await deps.library.reindex({ full, allowMassDelete: confirmed, onProgress: (p) => throttle.push(p) });
    outcome = `${full ? 'Full reindex' : 'Reindex'} finished.`;
    summaryHtml = renderSummaryHtml(full ? 'Full reindex done' : 'Reindex done', summary);
    deps.log.info('bot.reindexed', { full, ms: Date.now() - started, confirmed, ...counts(summary) });
    await recordAudit(deps, job.admin, action, '', changedOutcome(summary));
  } catch (caught) {
    const err = writeRefused('/reindex', caught);
    await recordAudit(deps, job.admin, action, '', failedOutcome(err));
    outcome = err instanceof UserError ? err.message : 'Reindex failed; the previous index keeps answering. The error is in the log.';
    if (err instanceof MassDeleteError) outcomeHtml = massDeleteHtml(err);
    if (!(err instanceof UserError)) deps.log.error('bot.reindex_failed', { full, error: errorFields(err) });
  } finally {
    await throttle.close();
  }
  await job.own
    ?.finish(summaryHtml ? 'done' : 'failed', outcome, summaryHtml)
    .catch((err) => deps.log.warn('bot.reindex_job_finish_failed', { error: errorFields(err) }));
  const keyboard = outcomeHtml ? new InlineKeyboard().text('Confirm', REINDEX_CONFIRM_PREFIX + (full ? 'full' : 'inc')) : undefined;
  // This runs outside the update's middleware, so failures are logged here rather than by bot.catch.
  try {
    await editHtml(api, chatId, progressId, outcomeHtml ?? escapeHtml(outcome), { log: deps.log, ...(keyboard ? { keyboard } : {}) });
    if (summaryHtml) await sendHtml(api, chatId, summaryHtml, { log: deps.log, replyTo });
  } catch (err) {
    deps.log.warn('bot.reindex_report_failed', { chat_id: chatId, error: errorFields(err) });
    if (summaryHtml) await sendPlain(api, chatId, outcome).catch(() => undefined);
  }
}

function counts(s: IndexSummary): Record<string, number> {
  return {
    added: s.added,
    changed: s.changed,
    removed: s.removed,
    unchanged: s.unchanged,
    skipped: s.skipped.length,
    articles: s.articles,
  };
}

function addedHtml(article: ArticleInfo, summary: IndexSummary): string {
  const date = article.date ? ` (${escapeHtml(article.date)})` : '';
  return [
    `Added <b>${link(article.title || article.id, article.url)}</b>${date} as <code>${escapeHtml(article.id)}</code>, ${article.chunks} chunk${article.chunks === 1 ? '' : 's'}.`,
    `Index: ${summary.articles} articles, ${summary.chunks} chunks.`,
  ].join('\n');
}

/** /add <url>: fetches, saves and indexes an article, then confirms with its title. */
async function addUrl(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const url = ctx.match.trim();
  if (!url) {
    await ctx.reply('Usage: /add https://example.com/some-article');
    return;
  }
  if (!/^https?:\/\/\S+$/i.test(url)) {
    await ctx.reply('That does not look like a web address. Usage: /add https://example.com/some-article');
    return;
  }
  const typing = startTyping(ctx.api, ctx.chat.id, deps.tuning.typingIntervalMs, deps.log);
  try {
    const { article, summary } = await audited(
      deps,
      adminOf(ctx),
      'add',
      url,
      () => deps.library.addUrl(url, adminName(ctx)),
      addedOutcome,
    );
    deps.log.info('bot.article_added', { source: 'url', article_id: article.id });
    await sendHtml(ctx.api, ctx.chat.id, addedHtml(article, summary), { log: deps.log });
  } finally {
    typing.stop();
  }
}

/** An uploaded document: admins add it as an article (size checked before downloading). */
async function addDocument(ctx: Filter<Context, 'message:document'>, deps: BotDeps): Promise<void> {
  const doc = ctx.msg.document;
  if (!isAdmin(deps.config, ctx.from?.id)) {
    await ctx.reply(tr(ctx)('admins-only-upload'));
    return;
  }
  const name = doc.file_name?.trim() || 'upload.txt';
  const ext = name.toLowerCase().match(/\.[a-z0-9]+$/)?.[0] ?? '';
  if (!UPLOAD_EXTENSIONS.includes(ext)) {
    await ctx.reply(`I can add .txt, .md, .html or .pdf files; “${name}” is none of those.`);
    return;
  }
  const max = deps.intake.maxUploadBytes;
  if (doc.file_size !== undefined && doc.file_size > max) {
    await ctx.reply(tooLargeMessage(doc.file_size, max));
    return;
  }
  const typing = startTyping(ctx.api, ctx.chat.id, deps.tuning.typingIntervalMs, deps.log);
  try {
    const file = await ctx.api.getFile(doc.file_id);
    if (file.file_size !== undefined && file.file_size > max) throw new UserError(tooLargeMessage(file.file_size, max));
    if (!file.file_path)
      throw new UserError('Telegram did not provide that file for download (files over 20 MB need a self-hosted Bot API server).');
    const bytes = await downloadFile(deps.files, file.file_path, max);
    const { article, summary } = await audited(
      deps,
      adminOf(ctx),
      'upload',
      name,
      () => deps.library.addFile(name, bytes, adminName(ctx)),
      addedOutcome,
    );
    deps.log.info('bot.article_added', { source: 'upload', article_id: article.id, bytes: bytes.byteLength });
    await sendHtml(ctx.api, ctx.chat.id, addedHtml(article, summary), { log: deps.log });
  } finally {
    typing.stop();
  }
}

/** /remove <id>: deletes an article and reindexes. */
async function remove(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const id = ctx.match.trim();
  if (!id) {
    await ctx.reply('Usage: /remove <article id> (ids are listed by /sources).');
    return;
  }
  const { summary } = await audited(
    deps,
    adminOf(ctx),
    'remove',
    id,
    () => deps.library.remove(id),
    (r) => changedOutcome(r.summary),
  );
  deps.log.info('bot.article_removed', { article_id: id });
  await sendHtml(
    ctx.api,
    ctx.chat.id,
    `Removed <code>${escapeHtml(id)}</code>. Index: ${summary.articles} articles, ${summary.chunks} chunks.`,
    {
      log: deps.log,
    },
  );
}

/** /stats: index figures, uptime and questions answered. */
async function stats(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const html = renderStatsHtml(deps.library.stats(), Date.now() - deps.startedAt, {
    total: await deps.counters.get('questions_answered'),
    sinceStart: deps.answeredSinceStart,
  });
  const desk = deps.desk?.questions.enabled ? `\n\n${renderDeskStatsHtml(await deps.desk.questions.stats(STATS_DAYS))}` : '';
  await sendHtml(ctx.api, ctx.chat.id, html + desk, { log: deps.log });
}

/** /audit: the newest entries of the admin audit trail (every replica's, with a shared database). */
async function audit(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const entries = await deps.audit.recent(AUDIT_SHOWN);
  await sendHtml(ctx.api, ctx.chat.id, renderAuditHtml(entries), { log: deps.log });
}

/** The admin behind an update, as the audit trail names them. */
interface Admin {
  userId: number;
  userName: string | null;
}

function adminOf(ctx: Context): Admin {
  const from = ctx.from;
  return { userId: from?.id ?? 0, userName: from?.username ? `@${from.username}` : (from?.first_name ?? null) };
}

/** How a stored source records the admin who added it. */
function adminName(ctx: Context): string {
  const admin = adminOf(ctx);
  return `${admin.userName ?? 'admin'} (${admin.userId})`;
}

/** Runs an admin action and records it in the audit trail, whether it succeeded or failed. */
async function audited<T>(
  deps: BotDeps,
  who: Admin,
  action: string,
  target: string,
  run: () => Promise<T>,
  ok: (r: T) => string,
): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (caught) {
    const err = writeRefused(ADMIN_WRITES[action] ?? `/${action}`, caught);
    await recordAudit(deps, who, action, target, failedOutcome(err));
    throw err;
  }
  await recordAudit(deps, who, action, target, ok(result));
  return result;
}

/** How the one-line refusal names each admin write. */
const ADMIN_WRITES: Record<string, string> = { add: '/add', upload: 'Adding a file', remove: '/remove' };

/**
 * A write refused because the database cannot be reached (PostgreSQL mode): one line that says
 * so and that nothing else is wrong. A busy pool and every other error pass through unchanged.
 */
function writeRefused(what: string, err: unknown): unknown {
  if (!(err instanceof DatabaseUnavailableError) || !/unreachable/.test(err.message)) return err;
  return new DatabaseUnavailableError(
    `${what} cannot change the index now: the database is unreachable; try again once it is back.`,
  );
}

/** Appends to the audit trail; a failure to record is logged, never shown as the action's failure. */
async function recordAudit(deps: BotDeps, who: Admin, action: string, target: string, outcome: string): Promise<void> {
  try {
    await deps.audit.record({ at: Date.now(), ...who, action, target, outcome });
  } catch (err) {
    deps.log.warn('bot.audit_failed', { action, error: errorFields(err) });
  }
}

function addedOutcome(r: { article: ArticleInfo }): string {
  return `ok: ${r.article.id} (${r.article.chunks} chunk${r.article.chunks === 1 ? '' : 's'})`;
}

function changedOutcome(s: IndexSummary): string {
  return `ok: +${s.added} ~${s.changed} -${s.removed}, ${s.articles} articles`;
}

function failedOutcome(err: unknown): string {
  return err instanceof UserError ? `failed: ${err.message}` : 'failed (see the log)';
}
