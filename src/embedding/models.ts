/**
 * How each known embedding model wants to be used, as its model card prescribes.
 * Getting this wrong does not crash anything: it silently degrades retrieval (bge with
 * mean pooling, or without its query instruction, ranks noticeably worse), so the
 * table is the single place that decides it.
 */

/** How token vectors become one sentence vector. */
export type Pooling = 'cls' | 'mean';

/** Usage rules for one embedding model. */
export interface ModelProfile {
  pooling: Pooling;
  /** Whether the model card L2-normalises its embeddings (our index always does; see transformers.ts). */
  normalize: boolean;
  /** Prepended to queries (retrieval instruction), '' for none. */
  queryPrefix: string;
  /** Prepended to documents, '' for none. */
  passagePrefix: string;
  /** True when it was trained to match a question to passages in other languages (no translation needed). */
  multilingual?: boolean;
}

/** A profile plus where it came from, after config overrides. */
export interface ResolvedModelProfile extends ModelProfile {
  /** False when the model is not in the table and defaults were used. */
  known: boolean;
  multilingual: boolean;
  /** True when `pooling` differs from what the model card prescribes (the vectors differ, so the index id must too). */
  poolingOverridden: boolean;
}

const BGE_EN_INSTRUCTION = 'Represent this sentence for searching relevant passages: ';
const BGE_ZH_INSTRUCTION = '为这个句子生成表示以用于检索相关文章：';

/** Matched against the model name without its owner (`Xenova/`, `BAAI/`, ...), case-insensitively. */
const TABLE: { pattern: RegExp; profile: ModelProfile }[] = [
  // BAAI bge v1/v1.5 (https://huggingface.co/BAAI/bge-small-en-v1.5): CLS, normalised, instruction on queries only.
  {
    pattern: /^bge-(small|base|large)-en(-v1\.5)?$/,
    profile: { pooling: 'cls', normalize: true, queryPrefix: BGE_EN_INSTRUCTION, passagePrefix: '' },
  },
  {
    pattern: /^bge-(small|base|large)-zh(-v1\.5)?$/,
    profile: { pooling: 'cls', normalize: true, queryPrefix: BGE_ZH_INSTRUCTION, passagePrefix: '' },
  },
  { pattern: /^bge-m3$/, profile: { pooling: 'cls', normalize: true, queryPrefix: '', passagePrefix: '', multilingual: true } },
  // mixedbread and Snowflake arctic follow the bge recipe.
  {
    pattern: /^mxbai-embed-(large|xsmall)-v1$/,
    profile: { pooling: 'cls', normalize: true, queryPrefix: BGE_EN_INSTRUCTION, passagePrefix: '' },
  },
  {
    pattern: /^snowflake-arctic-embed-(xs|s|m|m-long|l)$/,
    profile: { pooling: 'cls', normalize: true, queryPrefix: BGE_EN_INSTRUCTION, passagePrefix: '' },
  },
  // intfloat e5 (https://huggingface.co/intfloat/e5-small-v2): mean, "query: " / "passage: ".
  {
    pattern: /^e5-(small|base|large)(-v2)?$/,
    profile: { pooling: 'mean', normalize: true, queryPrefix: 'query: ', passagePrefix: 'passage: ' },
  },
  // multilingual-e5 (https://huggingface.co/intfloat/multilingual-e5-small): the same recipe, about
  // 100 languages in one space, so a Russian question finds an English article without translation.
  {
    pattern: /^multilingual-e5-(small|base|large)$/,
    profile: { pooling: 'mean', normalize: true, queryPrefix: 'query: ', passagePrefix: 'passage: ', multilingual: true },
  },
  // nomic-embed-text: mean, task prefixes on both sides.
  {
    pattern: /^nomic-embed-text-v1(\.5)?$/,
    profile: { pooling: 'mean', normalize: true, queryPrefix: 'search_query: ', passagePrefix: 'search_document: ' },
  },
  // sentence-transformers "dot" models are CLS and unnormalised; the cos/all/paraphrase ones are mean and normalised.
  { pattern: /^multi-qa-.*-dot-v1$/, profile: { pooling: 'cls', normalize: false, queryPrefix: '', passagePrefix: '' } },
  {
    pattern: /^(paraphrase-multilingual-|distiluse-base-multilingual-)/,
    profile: { pooling: 'mean', normalize: true, queryPrefix: '', passagePrefix: '', multilingual: true },
  },
  { pattern: /^(all|paraphrase|multi-qa|msmarco)-/, profile: { pooling: 'mean', normalize: true, queryPrefix: '', passagePrefix: '' } },
  { pattern: /^gte-(small|base|large)$/, profile: { pooling: 'mean', normalize: true, queryPrefix: '', passagePrefix: '' } },
  { pattern: /^jina-embeddings-v2-(small|base)-en$/, profile: { pooling: 'mean', normalize: true, queryPrefix: '', passagePrefix: '' } },
];

// Mean pooling is the safer guess for an unknown encoder: it degrades gracefully where CLS can be meaningless.
const UNKNOWN: ModelProfile = { pooling: 'mean', normalize: true, queryPrefix: '', passagePrefix: '' };

/** Looks up the model card profile for a model id such as `Xenova/bge-small-en-v1.5`; null when unknown. */
export function knownModelProfile(model: string): ModelProfile | null {
  const name = (model.split('/').pop() ?? model).toLowerCase();
  return TABLE.find((entry) => entry.pattern.test(name))?.profile ?? null;
}

/** Resolves the profile for `model`, applying the `EMBEDDING_POOLING` / `EMBEDDING_QUERY_PREFIX` overrides. */
export function resolveModelProfile(
  model: string,
  overrides: { pooling?: 'auto' | Pooling; queryPrefix?: string | undefined } = {},
): ResolvedModelProfile {
  const known = knownModelProfile(model);
  const base = known ?? UNKNOWN;
  const pooling = overrides.pooling && overrides.pooling !== 'auto' ? overrides.pooling : base.pooling;
  return {
    ...base,
    pooling,
    queryPrefix: overrides.queryPrefix ?? base.queryPrefix,
    known: known !== null,
    multilingual: base.multilingual === true,
    poolingOverridden: pooling !== base.pooling,
  };
}
