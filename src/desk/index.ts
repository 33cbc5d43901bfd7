/**
 * The editors' desk (docs/editors-desk.md): the private question log, feedback, /gaps and the
 * question figures of /stats. `openQuestionDesk` picks the log's storage once: PostgreSQL when
 * the app has a database, else SQLite under STATE_DIR.
 */
import type pg from 'pg';
import type { Config } from '../config/index.js';
import type { Logger } from '../util/log.js';
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
export type { CitedArticle, NewQuestion, Outcome, QuestionLog, QuestionRow, Vote } from './log.js';

/** The desk over the app's storage. */
export function openQuestionDesk(config: Pick<Config, 'stateDir' | 'desk'>, database: pg.Pool | null, logger?: Logger): QuestionDesk {
  const log = database ? new PgQuestionLog(database) : new SqliteQuestionLog(config.stateDir);
  return new QuestionDesk(log, { retentionDays: config.desk.questionLogDays, secret: config.desk.questionLogSecret }, logger);
}
