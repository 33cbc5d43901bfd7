/**
 * Tiny BERT-like models written from scratch, so tests can run the real transformers.js
 * loading and inference path without the Hugging Face hub: an embedding model
 * (`ensureFixtureModel`) and a cross-encoder reranker (`ensureFixtureReranker`).
 *
 * The embedding model's graph is a genuine one-layer encoder (word + position + token-type embeddings,
 * LayerNorm, single-head self-attention, LayerNorm), but its weights are chosen so that
 * pooled outputs behave like a bag-of-words projection. Each token carries a "salience"
 * (whole word > stopword > word piece > special token); the attention query is constant
 * and the key reads that salience, so every position, [CLS] included, receives the
 * salience-weighted mean of the sentence's word vectors. Texts that share words therefore
 * land close together under both CLS and mean pooling, which is what retrieval tests need
 * from a "semantic" model, while the two poolings still give measurably different vectors.
 * The cross-encoder is described where it is built, below.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, fnv1a } from '../../src/util/random.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT_ROOT = path.resolve(HERE, '../..');

/** Model id to pass to the embedder (resolved under `FIXTURE_MODELS_DIR`). */
export const FIXTURE_MODEL_ID = 'fixture/tiny-bert';
/** Absolute folder to use as transformers.js `env.localModelPath` / `LOCAL_MODEL_DIR`. */
export const FIXTURE_MODELS_DIR = path.join(PROJECT_ROOT, 'test', '.fixtures', 'models');
/** Width of the fixture model's vectors. */
export const FIXTURE_DIMENSION = 128;
/** `model_max_length` written into the fixture tokenizer config. */
export const FIXTURE_MAX_TOKENS = 512;

/** Pretty-printed JSON bytes, as the model hub serves config files. */
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2));

/** The BERT tokenizer settings both fixture models share. */
const TOKENIZER_CONFIG = json({
  tokenizer_class: 'BertTokenizer',
  do_lower_case: true,
  model_max_length: FIXTURE_MAX_TOKENS,
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  unk_token: '[UNK]',
  mask_token: '[MASK]',
});

/** Model id of the fixture cross-encoder (resolved under `FIXTURE_MODELS_DIR`). */
export const FIXTURE_RERANKER_ID = 'fixture/tiny-cross-encoder';

// Recorded in the stamp; the generator's source is hashed as well, so edits rebuild without a bump.
const GENERATOR_VERSION = 2;
const STAMP_FILE = 'fixture-stamp.json';
const VOCAB_SOURCE_DIRS = ['seeds', path.join('test', 'fixtures')];
const TEXT_EXTENSIONS = new Set(['.txt', '.md', '.markdown', '.html', '.htm', '.json', '.jsonl', '.csv', '.yaml', '.yml', '.xml']);
const MAX_SOURCE_BYTES = 5_000_000;
const VOCAB_CAP = 5000;
const MAX_EXTRA_CHARS = 200;

const H = FIXTURE_DIMENSION;
const MAX_POSITIONS = FIXTURE_MAX_TOKENS;
// Dimensions 0 and 1 carry only a "salience" axis (e0 - e1, zero-mean so LayerNorm leaves it
// alone); word meaning lives in dimensions 2..H-1.
const WORD_DIMS = 2;
// Position along the salience axis by token kind; attention logits are SALIENCE_SHARPNESS times this.
const SALIENCE = { content: 1, stop: -0.25, piece: -1.5, special: -4 } as const;
const SALIENCE_SHARPNESS = 2.4;
// How strongly the sentence summary outweighs a token's own vector in the output.
const ATTENTION_GAIN = 8;
// Position and token-type embeddings are small so word order barely moves the vector.
const POSITION_SCALE = 0.02;
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/**
 * Builds the fixture model under `FIXTURE_MODELS_DIR/fixture/tiny-bert` unless an
 * up-to-date copy is already there; returns the model folder.
 */
export async function ensureFixtureModel(): Promise<string> {
  return ensureModel(FIXTURE_MODEL_ID, buildFixtureModelFiles);
}

/**
 * Builds the fixture cross-encoder under `FIXTURE_MODELS_DIR/fixture/tiny-cross-encoder`
 * unless an up-to-date copy is already there; returns the model folder.
 */
export async function ensureFixtureReranker(): Promise<string> {
  return ensureModel(FIXTURE_RERANKER_ID, buildFixtureRerankerFiles);
}

async function ensureModel(modelId: string, build: (texts: string[]) => Record<string, Uint8Array>): Promise<string> {
  const target = path.join(FIXTURE_MODELS_DIR, ...modelId.split('/'));
  const sources = await readVocabSources();
  const stamp = JSON.stringify({ generator: GENERATOR_VERSION, sources: sources.hash });
  if (await stampMatches(target, stamp)) return target;

  const files = build(sources.texts);
  await fs.mkdir(path.dirname(target), { recursive: true });
  // Build beside the target and rename into place: several vitest runs may share this tree.
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await fs.mkdir(path.join(tmp, 'onnx'), { recursive: true });
    for (const [name, bytes] of Object.entries(files)) await fs.writeFile(path.join(tmp, name), bytes);
    await fs.writeFile(path.join(tmp, STAMP_FILE), stamp);
    await swapInto(tmp, target, stamp);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return target;
}

async function swapInto(tmp: string, target: string, stamp: string): Promise<void> {
  try {
    await fs.rename(tmp, target);
    return;
  } catch {
    // Target exists: either another run just built the same model, or it is stale.
  }
  if (await stampMatches(target, stamp)) return;
  const trash = `${target}.old-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await fs.rename(target, trash).catch(() => undefined);
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    if (!(await stampMatches(target, stamp))) throw err;
  } finally {
    await fs.rm(trash, { recursive: true, force: true });
  }
}

async function stampMatches(dir: string, stamp: string): Promise<boolean> {
  try {
    const found = await fs.readFile(path.join(dir, STAMP_FILE), 'utf8');
    if (found !== stamp) return false;
    await fs.access(path.join(dir, 'onnx', 'model_quantized.onnx'));
    return true;
  } catch {
    return false;
  }
}

async function readVocabSources(): Promise<{ texts: string[]; hash: string }> {
  const files: string[] = [];
  for (const dir of VOCAB_SOURCE_DIRS) await walk(path.join(PROJECT_ROOT, dir), files);
  files.sort();
  const hash = createHash('sha256');
  // The generator's own source is hashed too, so editing it rebuilds the model.
  hash.update(await fs.readFile(fileURLToPath(import.meta.url)));
  const texts: string[] = [];
  for (const file of files) {
    const text = await fs.readFile(file, 'utf8');
    hash.update(path.relative(PROJECT_ROOT, file)).update('\0').update(text).update('\0');
    texts.push(text);
  }
  return { texts, hash: hash.digest('hex') };
}

async function walk(dir: string, out: string[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return; // a missing source folder simply contributes no words
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, out);
    else if (entry.isFile() && TEXT_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
      const { size } = await fs.stat(full);
      if (size <= MAX_SOURCE_BYTES) out.push(full);
    }
  }
}

// ---------------------------------------------------------------------------
// Vocabulary and tokenizer files

// Kept ahead of corpus words so their ids (and vectors) do not move when fixtures change.
const BUILTIN_WORDS = `
the of and to in a is that for it as was with be by on not he i this are or his from at which but have an they
you were her she there been one all we their has would when if so no will more what who about out up can other
into than them its only do could time some these two may then first any my now such like our over man me even
most made after also did many before must through back years where much your way well down should because each
just those people how too little state good very make world still own see men work long get here between both
life being under never day same another know while last might us great old year off come since against go came
right used take three states himself few house use during without again place around however home small found
mrs thought went say part once general high upon school every don does got united left number course war until
always away something fact though water less public put think almost hand enough far took head yet government
system better set told nothing night end why called didn find going look asked later point knew city next program
business give group toward young days let room president side social given present several order national possible
rather second face per among form important often things looked early white case john become large big need four
within felt children along saw best church ever least power development light thing seemed family interest want
members mind country area others done turned although open god service certain kind problem began different door
thus help means sense whole matter perhaps itself york times law human line above name example action company hands
local show whether five history gave today either act feet across taken past quite anything seen having death
week experience body word half really field am car words already themselves information tell together college shall
money period held keep sure free real probably seems political cannot behind miss question air office making brought
whose special major heard problems ago became federal study available known result street economic boy position
reason change south board individual job society areas west close turn love community true court force full
minister police army market prices oil energy bank trade election vote report reported officials said says according
news article million billion percent minister ministry military attack killed war peace talks deal sanctions
climate storm flood fire health hospital vaccine virus research scientists study university students school court
judge trial prison crime police arrested company shares stock investors economy inflation rates growth jobs workers
strike union tax budget parliament senate congress party leader prime capital border troops forces missile drone
ukraine russia china europe america britain france germany india israel gaza iran africa london paris moscow
washington beijing kyiv spokesman spokeswoman statement announced agreed sign signed meeting summit visit foreign
international security defense technology internet data phone app launch space rocket satellite football match
team season player won win lost game final cup championship record film music festival museum art book author
`;

// Function words get a low attention weight, much like a low IDF.
const STOPWORDS = `
a an the of and or but to in on at by for from with as into onto about than then so if not no nor
is are was were be been being am do does did doing have has had having will would shall should can could may might must
i me my we us our you your he him his she her it its they them their this that these those there here
what which who whom whose when where why how all any both each few more most other some such only own same too very
just also up out over again further once s t don
`;

/** Splits text the way the fixture tokenizer will: lowercase, accents stripped, BERT punctuation. */
const WORD_PATTERN = /[^\s\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]+/gu;

function normaliseForVocab(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function buildVocab(texts: string[]): string[] {
  const baseChars = [
    ...'abcdefghijklmnopqrstuvwxyz0123456789',
    ...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
    ...'\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00ab\u00bb\u00b0\u20ac\u00a3\u00a7\u2022\u00b7\u00d7',
  ];
  const counts = new Map<string, number>();
  const extraChars = new Set<string>();
  for (const text of texts) {
    for (const word of normaliseForVocab(text).match(WORD_PATTERN) ?? []) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
      for (const ch of word) extraChars.add(ch);
    }
  }
  const base = new Set(baseChars);
  const chars = [
    ...baseChars,
    ...[...extraChars]
      .filter((c) => !base.has(c))
      .sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!)
      .slice(0, MAX_EXTRA_CHARS),
  ];
  const vocab: string[] = [...SPECIALS, ...chars, ...chars.map((c) => '##' + c)];
  const seen = new Set(vocab);
  const add = (word: string) => {
    if (vocab.length < VOCAB_CAP && [...word].length > 1 && !seen.has(word)) {
      vocab.push(word);
      seen.add(word);
    }
  };
  for (const word of BUILTIN_WORDS.split(/\s+/)) if (word) add(word);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]));
  for (const [word] of ranked) add(word);
  return vocab;
}

function tokenizerJson(vocab: string[]): string {
  const ids: Record<string, number> = {};
  vocab.forEach((token, i) => {
    ids[token] = i;
  });
  const special = (content: string) => ({
    id: ids[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const cls = { SpecialToken: { id: '[CLS]', type_id: 0 } };
  const sep = (typeId: number) => ({ SpecialToken: { id: '[SEP]', type_id: typeId } });
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [cls, { Sequence: { id: 'A', type_id: 0 } }, sep(0)],
      pair: [cls, { Sequence: { id: 'A', type_id: 0 } }, sep(0), { Sequence: { id: 'B', type_id: 1 } }, sep(1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [ids['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [ids['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: ids },
  });
}

/** The model's files (relative path → bytes) for a vocabulary drawn from `texts`; pure and deterministic. */
export function buildFixtureModelFiles(texts: string[]): Record<string, Uint8Array> {
  const vocab = buildVocab(texts);
  const onnx = buildOnnx(vocab);
  return {
    'config.json': json({
      model_type: 'bert',
      architectures: ['BertModel'],
      hidden_size: H,
      num_attention_heads: 1,
      num_hidden_layers: 1,
      intermediate_size: H,
      vocab_size: vocab.length,
      max_position_embeddings: MAX_POSITIONS,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-12,
      pad_token_id: 0,
    }),
    'tokenizer.json': new TextEncoder().encode(tokenizerJson(vocab)),
    'tokenizer_config.json': TOKENIZER_CONFIG,
    // transformers.js picks the quantized file by default; identical bytes keep both paths equal.
    'onnx/model.onnx': onnx,
    'onnx/model_quantized.onnx': onnx,
  };
}

// ---------------------------------------------------------------------------
// Weights

function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
}

// ---------------------------------------------------------------------------
// ONNX graph

const FLOAT = 1;
const INT64 = 7;

interface Tensor {
  name: string;
  dims: number[];
  type: typeof FLOAT | typeof INT64;
  data: Float32Array | BigInt64Array;
}

type Attr = { name: string; int?: number; float?: number; ints?: number[] };

interface Node {
  op: string;
  inputs: string[];
  output: string;
  attrs: Attr[];
}

/** Collects initializers and nodes; each helper returns the name of what it added. */
function graphBuilder() {
  const inits: Tensor[] = [];
  const nodes: Node[] = [];
  const f32 = (name: string, dims: number[], data: Float32Array | number[]) => {
    inits.push({ name, dims, type: FLOAT, data: data instanceof Float32Array ? data : Float32Array.from(data) });
    return name;
  };
  const i64 = (name: string, dims: number[], data: number[]) => {
    inits.push({ name, dims, type: INT64, data: BigInt64Array.from(data.map(BigInt)) });
    return name;
  };
  const node = (op: string, inputs: string[], output: string, attrs: Attr[] = []) => {
    nodes.push({ op, inputs, output, attrs });
    return output;
  };
  return { inits, nodes, f32, i64, node };
}

type TokenKind = 'content' | 'stop' | 'piece' | 'special';

function tokenKinds(vocab: string[]): TokenKind[] {
  const stop = new Set(STOPWORDS.split(/\s+/));
  return vocab.map((token, id) => {
    if (id < SPECIALS.length && token !== '[UNK]') return 'special';
    if ([...token].length === 1 || token.startsWith('##') || token === '[UNK]') return 'piece';
    return stop.has(token) ? 'stop' : 'content';
  });
}

function buildOnnx(vocab: string[]): Uint8Array {
  const rand = createRng(20240627);
  const normal = gaussian(rand);
  const V = vocab.length;
  const { inits, nodes, f32, i64, node } = graphBuilder();
  const layerNorm = (x: string, name: string, gamma: Float32Array) =>
    node('LayerNormalization', [x, f32(`${name}.g`, [H], gamma), f32(`${name}.b`, [H], new Float32Array(H))], `${name}.out`, [
      { name: 'axis', int: -1 },
      { name: 'epsilon', float: 1e-12 },
    ]);
  const dense = (x: string, name: string, w: Float32Array, b: Float32Array = new Float32Array(H)) =>
    node('Add', [node('MatMul', [x, f32(`${name}.w`, [H, H], w)], `${name}.mm`), f32(`${name}.b`, [H], b)], `${name}.out`);

  const kinds = tokenKinds(vocab);
  const wordEmb = new Float32Array(V * H);
  vocab.forEach((token, id) => {
    const row = wordEmb.subarray(id * H, (id + 1) * H);
    const special = kinds[id] === 'special';
    const salience = SALIENCE[kinds[id]!];
    // Seeded by the token itself, so a word keeps its vector when fixtures add other words.
    if (!special) row.set(wordVector(gaussian(createRng(fnv1a(token)))), WORD_DIMS);
    row[0] = salience / Math.SQRT2;
    row[1] = -salience / Math.SQRT2;
  });
  const positionEmb = new Float32Array(MAX_POSITIONS * H);
  for (let p = 0; p < MAX_POSITIONS; p++) positionEmb.set(wordVector(normal, POSITION_SCALE), p * H + WORD_DIMS);
  const typeEmb = new Float32Array(2 * H);
  for (let t = 0; t < 2; t++) typeEmb.set(wordVector(normal, POSITION_SCALE), t * H + WORD_DIMS);

  const seq = node('Gather', [node('Shape', ['input_ids'], 'shape'), i64('one', [], [1])], 'seq', [{ name: 'axis', int: 0 }]);
  const pos = node('Range', [i64('zero', [], [0]), seq, 'one'], 'pos');
  const we = node('Gather', [f32('word_emb', [V, H], wordEmb), 'input_ids'], 'we');
  const pe = node('Gather', [f32('pos_emb', [MAX_POSITIONS, H], positionEmb), pos], 'pe');
  const te = node('Gather', [f32('type_emb', [2, H], typeEmb), 'token_type_ids'], 'te');
  const h0 = layerNorm(node('Add', [node('Add', [we, pe], 'wpe'), te], 'emb'), 'emb_ln', new Float32Array(H).fill(1));

  // Additive mask [B,1,S]: padded keys get -10000 so batched and single inference agree.
  const maskf = node('Cast', ['attention_mask'], 'maskf', [{ name: 'to', int: FLOAT }]);
  const inv = node('Sub', [f32('onef', [], [1]), maskf], 'inv');
  const madd = node('Mul', [inv, f32('neg', [], [-10000])], 'madd');
  const mask3 = node('Unsqueeze', [madd, i64('ax1', [1], [1])], 'mask3');

  // Query is a constant and key reads the salience axis, so attention weights are an IDF-like
  // weighting shared by every position: whole words count, stopwords little, word pieces almost not.
  const wq = new Float32Array(H * H);
  const bq = new Float32Array(H);
  bq[0] = SALIENCE_SHARPNESS * Math.sqrt(H);
  const wk = new Float32Array(H * H);
  wk[0 * H + 0] = 1 / Math.SQRT2;
  wk[1 * H + 0] = -1 / Math.SQRT2;
  // Value drops the salience axis; output permutes the word dimensions (mean-preserving, so
  // LayerNorm sees the same statistics) and amplifies the sentence summary over the token itself.
  const wv = new Float32Array(H * H);
  for (let d = WORD_DIMS; d < H; d++) wv[d * H + d] = 1;
  const perm = shuffle(range(WORD_DIMS, H), rand);
  const wo = new Float32Array(H * H);
  for (const [i, to] of perm.entries()) wo[(WORD_DIMS + i) * H + to] = ATTENTION_GAIN;

  const q = dense(h0, 'l0.q', wq, bq);
  const k = dense(h0, 'l0.k', wk);
  const v = dense(h0, 'l0.v', wv);
  const kt = node('Transpose', [k], 'l0.kt', [{ name: 'perm', ints: [0, 2, 1] }]);
  const scores = node(
    'Add',
    [node('Mul', [node('MatMul', [q, kt], 'l0.qk'), f32('scale', [], [1 / Math.sqrt(H)])], 'l0.qks'), mask3],
    'l0.sc',
  );
  const probs = node('Softmax', [scores], 'l0.p', [{ name: 'axis', int: -1 }]);
  const ctx = node('MatMul', [probs, v], 'l0.ctx');
  const attn = dense(ctx, 'l0.o', wo);
  // Zero gain on the salience axis keeps it out of the output vectors.
  const outGamma = new Float32Array(H).fill(1);
  outGamma[0] = 0;
  outGamma[1] = 0;
  const out = layerNorm(node('Add', [h0, attn], 'l0.res'), 'l0.ln', outGamma);
  node('Identity', [out], 'last_hidden_state');

  return encodeModel('tiny_bert', nodes, inits, { name: 'last_hidden_state', dims: ['batch_size', 'sequence_length', H] });
}

// ---------------------------------------------------------------------------
// Cross-encoder
//
// A `BertForSequenceClassification` stand-in whose single logit rises with word overlap
// between the query segment (token_type 0) and the passage segment (token_type 1). Every
// token gets a random unit word vector; a token-by-token similarity matrix over the joint
// sequence (the attention-score matrix of a one-head layer without projections) is
// thresholded so only shared words match, masked to passage keys, and max-pooled per query
// token; the query tokens' matches are then averaged with IDF-like weights. So the logit is
// an affine function of "the weighted share of the query's words found in the passage",
// which is what a real MS MARCO cross-encoder approximates on easy cases, and it cannot be
// obtained from either segment alone: unlike the bi-encoder fixture, it reads the pair.

// Random unit vectors this wide are nearly orthogonal (cosine ~ N(0, 1/128)), so only a
// shared word clears MATCH_THRESHOLD, even against a few hundred passage tokens.
const CE_DIM = 128;
const MATCH_THRESHOLD = 0.5;
// A query token's weight in the average: function words barely count (like a low IDF), and
// word pieces and special tokens not at all, so unknown words neither help nor hurt.
const QUERY_WEIGHT: Record<TokenKind, number> = { content: 1, stop: 0.1, piece: 0, special: 0 };
// logit = gain * overlap + bias: about -4 for no overlap and +4 for all query words, the
// range an MS MARCO MiniLM cross-encoder produces.
const LOGIT_GAIN = 8;
const LOGIT_BIAS = -4;

/** The cross-encoder's files (relative path → bytes) for a vocabulary drawn from `texts`; pure and deterministic. */
export function buildFixtureRerankerFiles(texts: string[]): Record<string, Uint8Array> {
  const vocab = buildVocab(texts);
  const onnx = buildCrossEncoderOnnx(vocab);
  return {
    'config.json': json({
      model_type: 'bert',
      architectures: ['BertForSequenceClassification'],
      hidden_size: CE_DIM,
      num_attention_heads: 1,
      num_hidden_layers: 1,
      intermediate_size: CE_DIM,
      vocab_size: vocab.length,
      max_position_embeddings: MAX_POSITIONS,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-12,
      pad_token_id: 0,
      id2label: { '0': 'LABEL_0' },
      label2id: { LABEL_0: 0 },
    }),
    'tokenizer.json': new TextEncoder().encode(tokenizerJson(vocab)),
    'tokenizer_config.json': TOKENIZER_CONFIG,
    'onnx/model.onnx': onnx,
    'onnx/model_quantized.onnx': onnx,
  };
}

function buildCrossEncoderOnnx(vocab: string[]): Uint8Array {
  const V = vocab.length;
  const D = CE_DIM;
  const { inits, nodes, f32, i64, node } = graphBuilder();
  const kinds = tokenKinds(vocab);

  const wordVec = new Float32Array(V * D);
  const queryWeight = new Float32Array(V);
  vocab.forEach((token, id) => {
    const kind = kinds[id]!;
    queryWeight[id] = QUERY_WEIGHT[kind];
    // Special tokens stay zero so [CLS]/[SEP]/[PAD] never match anything.
    if (kind === 'special') return;
    // Seeded by the token itself (and salted apart from the embedder's vectors).
    const normal = gaussian(createRng(fnv1a(`cross-encoder:${token}`)));
    const v = Float64Array.from({ length: D }, normal);
    const n = Math.hypot(...v);
    for (const [i, x] of v.entries()) wordVec[id * D + i] = x / n;
  });

  const e = node('Gather', [f32('word_vec', [V, D], wordVec), 'input_ids'], 'e');
  const et = node('Transpose', [e], 'et', [{ name: 'perm', ints: [0, 2, 1] }]);
  const sim = node('MatMul', [e, et], 'sim');
  // 1 for an exact word match, 0 for unrelated words: (cos - t) / (1 - t), floored at 0.
  const match = node(
    'Relu',
    [
      node(
        'Mul',
        [node('Sub', [sim, f32('threshold', [], [MATCH_THRESHOLD])], 'sim.t'), f32('sharp', [], [1 / (1 - MATCH_THRESHOLD)])],
        'sim.s',
      ),
    ],
    'match',
  );

  const maskf = node('Cast', ['attention_mask'], 'maskf', [{ name: 'to', int: FLOAT }]);
  const typef = node('Cast', ['token_type_ids'], 'typef', [{ name: 'to', int: FLOAT }]);
  // Keys are passage tokens only: matches are non-negative, so multiplying by the mask before the max is enough.
  const passageKeys = node('Unsqueeze', [node('Mul', [maskf, typef], 'pmask'), i64('ax1', [1], [1])], 'pkeys');
  const best = node('ReduceMax', [node('Mul', [match, passageKeys], 'match.p')], 'best', [
    { name: 'axes', ints: [2] },
    { name: 'keepdims', int: 0 },
  ]);

  const queryMask = node('Mul', [maskf, node('Sub', [f32('onef', [], [1]), typef], 'qtype')], 'qmask');
  const weights = node('Mul', [queryMask, node('Gather', [f32('query_weight', [V], queryWeight), 'input_ids'], 'qw')], 'weights');
  const axisSeq = i64('ax_seq', [1], [1]);
  const num = node('ReduceSum', [node('Mul', [best, weights], 'weighted'), axisSeq], 'num', [{ name: 'keepdims', int: 1 }]);
  // The epsilon keeps an all-stopword or all-unknown query at overlap 0 instead of NaN.
  const den = node('Add', [node('ReduceSum', [weights, axisSeq], 'wsum', [{ name: 'keepdims', int: 1 }]), f32('eps', [], [1e-6])], 'den');
  const overlap = node('Div', [num, den], 'overlap');
  node('Add', [node('Mul', [overlap, f32('gain', [], [LOGIT_GAIN])], 'scaled'), f32('bias', [], [LOGIT_BIAS])], 'logits');

  return encodeModel('tiny_cross_encoder', nodes, inits, { name: 'logits', dims: ['batch_size', 1] });
}

/** A random zero-mean vector over the word dimensions with norm `scale * sqrt(H)`. */
function wordVector(normal: () => number, scale = 1): Float32Array {
  const v = Float64Array.from({ length: H - WORD_DIMS }, normal);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const centred = v.map((x) => x - mean);
  const norm = Math.hypot(...centred);
  return Float32Array.from(centred, (x) => (x / norm) * scale * Math.sqrt(H));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

// ---------------------------------------------------------------------------
// Minimal protobuf writer for the subset of onnx.proto used above.

class Writer {
  private parts: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }

  private varint(value: bigint): this {
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    return this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: 0 | 2 | 5): this {
    return this.varint(BigInt((field << 3) | wire));
  }

  int(field: number, value: number | bigint): this {
    return this.key(field, 0).varint(BigInt(value));
  }

  float(field: number, value: number): this {
    const buf = new Uint8Array(4);
    new DataView(buf.buffer).setFloat32(0, value, true);
    return this.key(field, 5).push(buf);
  }

  bytes(field: number, value: Uint8Array): this {
    return this.key(field, 2).varint(BigInt(value.length)).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

function rawLittleEndian(data: Float32Array | BigInt64Array): Uint8Array {
  const out = new Uint8Array(data.length * data.BYTES_PER_ELEMENT);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) for (const [i, x] of data.entries()) view.setFloat32(i * 4, x, true);
  else for (const [i, x] of data.entries()) view.setBigInt64(i * 8, x, true);
  return out;
}

// Field numbers below are those of onnx.proto (ModelProto, GraphProto, NodeProto, ...).
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

function encodeModel(graphName: string, nodes: Node[], inits: Tensor[], output: { name: string; dims: (number | string)[] }): Uint8Array {
  const valueInfo = (w: Writer, name: string, elemType: number, dims: (number | string)[]) => {
    w.string(1, name);
    w.message(2, (type) =>
      type.message(1, (tensor) => {
        tensor.int(1, elemType);
        tensor.message(2, (shape) => {
          for (const d of dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        });
      }),
    );
  };
  const model = new Writer();
  model.int(1, 8); // ir_version
  model.string(2, 'newsdesk-fixture');
  model.string(3, String(GENERATOR_VERSION));
  model.message(7, (graph) => {
    for (const [i, n] of nodes.entries()) {
      graph.message(1, (w) => {
        for (const input of n.inputs) w.string(1, input);
        w.string(2, n.output);
        w.string(3, `${n.op}_${i}`);
        w.string(4, n.op);
        for (const a of n.attrs) {
          w.message(5, (attr) => {
            attr.string(1, a.name);
            if (a.float !== undefined) attr.float(2, a.float).int(20, ATTR_FLOAT);
            else if (a.int !== undefined) attr.int(3, a.int).int(20, ATTR_INT);
            else if (a.ints !== undefined) {
              for (const x of a.ints) attr.int(8, x);
              attr.int(20, ATTR_INTS);
            }
          });
        }
      });
    }
    graph.string(2, graphName);
    for (const t of inits) {
      graph.message(5, (w) => {
        for (const d of t.dims) w.int(1, d);
        w.int(2, t.type);
        w.string(8, t.name);
        w.bytes(9, rawLittleEndian(t.data));
      });
    }
    for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) {
      graph.message(11, (w) => valueInfo(w, name, INT64, ['batch_size', 'sequence_length']));
    }
    graph.message(12, (w) => valueInfo(w, output.name, FLOAT, output.dims));
  });
  model.message(8, (opset) => opset.string(1, '').int(2, 17));
  return model.finish();
}
