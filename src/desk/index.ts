/**
 * The editors' desk (docs/editors-desk.md): the private question log, feedback, /gaps and the
 * question figures of /stats, and correction notices. Where the log and the receipts live is
 * chosen once, with the rest of the state, in src/app.ts (`StateStores`).
 */
import type { IndexView } from '../store/search-index.js';
import type { Logger } from '../util/log.js';
import { articleVersion, CorrectionNotices, type CorrectionReceipts, type NoticeOutbox } from './corrections.js';

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

/** Correction notices over `receipts` and the library's current index, queued into `outbox` (the alerts'). */
export function openCorrectionNotices(
  receipts: CorrectionReceipts,
  library: { searchIndex(): IndexView | null },
  outbox: NoticeOutbox,
  days: number,
  logger?: Logger,
): CorrectionNotices {
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
  return new CorrectionNotices({ receipts, outbox, current, days, ...(logger ? { logger } : {}) });
}
