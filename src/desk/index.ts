/**
 * The editors' desk (docs/editors-desk.md): the private question log, feedback, /gaps and the
 * question figures of /stats. `openQuestionDesk` picks the log's storage once: PostgreSQL when
 * the app has a database, else SQLite under STATE_DIR.
 */
import type pg from 'pg';
import type { Config } from '../config/index.js';
import type { Logger } from '../util/log.js';
import type { IndexView } from '../store/search-index.js';
import { articleVersion, CorrectionNotices, type NoticeOutbox, PgReceipts, SqliteReceipts } from './corrections.js';
import { QuestionDesk } from './desk.js';
import { SqliteQuestionLog } from './log.js';
import { PgQuestionLog } from './pg-log.js';

export {
  type DeskSettings,
  type DeskStats,
  type GapTopic,
  type GapsReport,
  isGap,
  type QuestionEvent,
  QuestionDesk,
} from './desk.js';
export { CorrectionNotices, type CorrectionReceipts, type NoticeOutbox, type Receipt } from './corrections.js';
export type { CitedArticle, NewQuestion, Outcome, QuestionLog, QuestionRow, Vote } from './log.js';

/** Correction notices over the app's storage and index, queued into `outbox` (the alerts'). */
export function openCorrectionNotices(
  config: Pick<Config, 'stateDir' | 'desk'>,
  database: pg.Pool | null,
  library: { searchIndex(): IndexView | null },
  outbox: NoticeOutbox,
  logger?: Logger,
): CorrectionNotices {
  const receipts = database ? new PgReceipts(database) : new SqliteReceipts(config.stateDir);
  const current = async (articleId: string) => {
    const index = library.searchIndex();
    const article = index?.article(articleId);
    if (!index || !article) return null;
    index.retain();
    try {
      const text = await index.articleText(articleId);
      return text === undefined
        ? null
        : { version: articleVersion(article.title, text), title: article.title, date: article.date, url: article.url };
    } finally {
      index.release();
    }
  };
  return new CorrectionNotices({ receipts, outbox, current, days: config.desk.correctionsDays, ...(logger ? { logger } : {}) });
}

/** The desk over the app's storage. */
export function openQuestionDesk(config: Pick<Config, 'stateDir' | 'desk'>, database: pg.Pool | null, logger?: Logger): QuestionDesk {
  const log = database ? new PgQuestionLog(database) : new SqliteQuestionLog(config.stateDir);
  return new QuestionDesk(log, { retentionDays: config.desk.questionLogDays, secret: config.desk.questionLogSecret }, logger);
}
