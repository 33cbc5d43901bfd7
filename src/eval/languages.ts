/**
 * Retrieval per question language: a question file may give each question a `lang`, and a
 * translated copy of a set then measures cross-language retrieval with whatever model is
 * configured (a Russian question against English articles finds little lexically; a
 * multilingual embedding model should close most of the gap).
 */
import { formatTable } from '../util/table.js';
import { isAnswerable, type EvalQuestion } from './dataset.js';
import { hitAtK, mrrAtK } from './metrics.js';
import { EVAL_MODES, type EvalMode, type ModeResult } from './retrieval.js';

/** Label of questions that give no `lang`. */
export const NO_LANGUAGE = '(none)';

/** Hit@5 and MRR@10 over one language's answerable questions in one mode. */
export interface LanguageRow {
  mode: EvalMode;
  lang: string;
  /** Answerable questions in that language (the denominator). */
  answerable: number;
  hitAt5: number;
  mrrAt10: number;
}

/** Per-language rows for every mode that ran; empty when no question gives a language. */
export function languageRows(questions: readonly EvalQuestion[], modeResults: ReadonlyMap<EvalMode, ModeResult>): LanguageRow[] {
  if (!questions.some((q) => q.lang !== undefined)) return [];
  const langOf = new Map(questions.filter(isAnswerable).map((q) => [q.id, q.lang ?? NO_LANGUAGE]));
  const langs = [...new Set(langOf.values())];
  const rows: LanguageRow[] = [];
  for (const mode of EVAL_MODES) {
    const result = modeResults.get(mode);
    if (!result) continue;
    for (const lang of langs) {
      const ranks = result.questions.filter((r) => langOf.get(r.id) === lang).map((r) => r.rank);
      rows.push({ mode, lang, answerable: ranks.length, hitAt5: hitAtK(ranks, 5), mrrAt10: mrrAtK(ranks, 10) });
    }
  }
  return rows;
}

/** The per-language table printed under the retrieval table. */
export function formatLanguageTable(rows: readonly LanguageRow[]): string {
  return formatTable(
    ['mode', 'lang', 'answerable', 'Hit@5', 'MRR@10'],
    rows.map((r) => [r.mode, r.lang, String(r.answerable), `${(100 * r.hitAt5).toFixed(1)}%`, r.mrrAt10.toFixed(3)]),
  );
}
