/**
 * Soak test (not part of CI): the load-test setup (the bot over the real stack, the Telegram
 * emulator and a fake LLM answering in 150–300 ms, all on 127.0.0.1) under a steady, moderate
 * rate of conversations for N minutes. New users keep arriving; each asks five questions, the last
 * four follow-ups that only resolve through that chat's history, and every answer is checked.
 *
 * Prints RSS, heap and active handles (process.getActiveResourcesInfo()) after a warm-up, every
 * minute, and at the end (after the load stops and sockets settle). Exits non-zero when RSS grew
 * by more than --max-rss-growth-mb, when active handles grew, or when any answer was wrong or missing.
 *
 *   npx tsx scripts/soak.ts [--minutes 10] [--rate 5] [--max-rss-growth-mb 64]
 *
 * The harness keeps a record of every call for tests; here it is emptied as it goes, so that
 * what is measured is the bot, not the recorder.
 */
import type { Transformer } from 'grammy';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  expectedAnswer,
  people,
  peopleArticles,
  peopleLlm,
  QUESTION_KINDS,
  questionText,
  type PeopleLlmStats,
} from '../test/hardening/people.js';
import { percentile, startStack, writeReport } from '../test/hardening/support.js';
import { visibleText } from '../test/support/telegram-html.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '5' },
    'max-rss-growth-mb': { type: 'string', default: '64' },
    'warmup-seconds': { type: 'string', default: '30' },
  },
});
const MINUTES = Number(values.minutes);
const RATE = Number(values.rate);
const MAX_RSS_GROWTH_MB = Number(values['max-rss-growth-mb']);
const WARMUP_MS = Number(values['warmup-seconds']) * 1000;
if (!(MINUTES > 0) || !(RATE > 0) || !(MAX_RSS_GROWTH_MB > 0) || !(WARMUP_MS >= 0)) {
  process.stderr.write('Usage: npx tsx scripts/soak.ts [--minutes 10] [--rate 5] [--max-rss-growth-mb 64] [--warmup-seconds 30]\n');
  process.exit(2);
}

// Collect garbage before each measurement, so heap and RSS figures are live memory, not garbage not yet collected.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const list = people(50);
const stats: PeopleLlmStats = { historyMismatches: 0, unresolved: 0, condense: 0, answers: 0 };
const QUESTIONS = QUESTION_KINDS.length;

interface Conversation {
  chatId: number;
  reader: number;
  next: number;
  sentAt: number;
  waiting: boolean;
}
const open = new Map<number, Conversation>();
let answered = 0;
let wrong = 0;
const wrongSamples: string[] = [];
let latencies: number[] = [];

// Checks each reply as the bot sends it (private chats preview with drafts, so one sendMessage per answer).
const observe: Transformer = async (prev, method, payload, signal) => {
  const res = await prev(method, payload, signal);
  if (method === 'sendMessage' && res.ok) {
    const p = payload as { chat_id: number; text: string; parse_mode?: string };
    const conv = open.get(p.chat_id);
    if (conv?.waiting) {
      const kind = QUESTION_KINDS[conv.next]!;
      const expected = expectedAnswer(list[conv.reader % list.length]!, kind);
      const text = visibleText(p.text, p.parse_mode);
      if (!text.startsWith(expected)) {
        wrong++;
        if (wrongSamples.length < 5)
          wrongSamples.push(`chat ${p.chat_id} q${conv.next + 1}: expected "${expected}", got "${text.slice(0, 80)}"`);
      }
      latencies.push(Date.now() - conv.sentAt);
      answered++;
      conv.waiting = false;
      conv.next++;
      if (conv.next >= QUESTIONS) open.delete(p.chat_id);
    } else {
      wrong++;
      if (wrongSamples.length < 5) wrongSamples.push(`unexpected message in chat ${p.chat_id}`);
    }
  }
  return res;
};

const s = await startStack({
  noCorpus: true,
  articles: peopleArticles(list),
  env: { CHUNK_MAX_TOKENS: '400', LLM_MAX_CONCURRENCY: '16', LLM_TIMEOUT_MS: '30000', LOG_LEVEL: 'info' },
  handler: peopleLlm(list, () => 150 + Math.floor(Math.random() * 150), stats),
  harness: { config: { rateLimitPerMinute: 10_000 }, transformers: [observe] },
});

let errors = 0;
/** Empties the harness's and the fake LLM's records (counting errors first) so they do not grow. */
function trimRecorders(): void {
  for (const line of s.h.logs) if (line.includes('"level":"error"') || line.includes('bot.update_failed')) errors++;
  s.h.logs.length = 0;
  s.h.calls.length = 0;
  s.h.drafts.length = 0;
  s.h.downloads.length = 0;
  s.h.messages.clear();
  s.appLogs.length = 0;
  s.fake.requests.length = 0;
  const storage = s.h.emulator.storage;
  storage.userMessages = storage.userMessages.filter((m) => !m.isRead);
  storage.botMessages = [];
}

let nextChat = 2_000_001;
let reader = 0;
const MAX_OPEN = Math.max(4, Math.ceil(RATE * 2));
let sending = true;
let paused = false;

/** Sends one question: the next one of a conversation whose last answer has arrived, or opens a new conversation. */
async function tick(): Promise<void> {
  let conv = [...open.values()].find((c) => !c.waiting);
  if (!conv) {
    if (open.size >= MAX_OPEN) return;
    conv = { chatId: nextChat++, reader: reader++, next: 0, sentAt: 0, waiting: false };
    open.set(conv.chatId, conv);
  }
  const chat = s.h.privateChat(conv.chatId);
  conv.waiting = true;
  conv.sentAt = Date.now();
  await chat.send(questionText(QUESTION_KINDS[conv.next]!, list[conv.reader % list.length]!, conv.reader));
}

const load = (async () => {
  const interval = 1000 / RATE;
  let due = Date.now();
  while (sending) {
    due += interval;
    if (!paused)
      await tick().catch((err: unknown) => {
        errors++;
        process.stderr.write(`send failed: ${String(err)}\n`);
      });
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  }
})();
const trimmer = setInterval(trimRecorders, 5000);

interface Sample {
  label: string;
  seconds: number;
  rssMB: number;
  heapUsedMB: number;
  handles: number;
  handleTypes: Record<string, number>;
  answered: number;
  p50: number;
  p95: number;
  wrong: number;
  errors: number;
}
const samples: Sample[] = [];
const t0 = Date.now();

function sample(label: string): Sample {
  gc();
  const mem = process.memoryUsage();
  const types: Record<string, number> = {};
  for (const t of process.getActiveResourcesInfo()) types[t] = (types[t] ?? 0) + 1;
  const sorted = latencies;
  const out: Sample = {
    label,
    seconds: Math.round((Date.now() - t0) / 1000),
    rssMB: Math.round(mem.rss / 2 ** 20),
    heapUsedMB: Math.round(mem.heapUsed / 2 ** 20),
    handles: Object.values(types).reduce((a, b) => a + b, 0),
    handleTypes: types,
    answered,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    wrong,
    errors,
  };
  latencies = [];
  samples.push(out);
  const types2 = Object.entries(types)
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  process.stdout.write(
    `${label.padEnd(9)} t=${String(out.seconds).padStart(4)}s  rss ${out.rssMB} MB  heap ${out.heapUsedMB} MB  handles ${out.handles} (${types2})  answered ${answered}  p50/p95 ${out.p50}/${out.p95} ms  wrong ${wrong}  errors ${errors}\n`,
  );
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until no question is waiting for its answer (or `ms` pass), then for idle keep-alive sockets to close. */
async function settle(ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while ([...open.values()].some((c) => c.waiting) && Date.now() < deadline) await sleep(200);
  await sleep(6000);
  return [...open.values()].filter((c) => c.waiting).length;
}

process.stdout.write(`Soak: ${MINUTES} min at ${RATE} questions/s after a ${WARMUP_MS / 1000} s warm-up, node ${process.version}\n`);
sample('boot');
await sleep(WARMUP_MS);
// Baseline and end are both taken idle (no question in flight), so handle counts compare like with like.
paused = true;
await settle(30_000);
trimRecorders();
const start = sample('start');
paused = false;
for (let m = 1; m <= MINUTES; m++) {
  await sleep(60_000);
  sample(`minute ${m}`);
}
sending = false;
await load;
const missing = await settle(30_000);
clearInterval(trimmer);
trimRecorders();
const end = sample('end');

const rssGrowth = end.rssMB - start.rssMB;
const handleGrowth = end.handles - start.handles;
const problems: string[] = [];
if (rssGrowth > MAX_RSS_GROWTH_MB) problems.push(`RSS grew by ${rssGrowth} MB (limit ${MAX_RSS_GROWTH_MB} MB)`);
if (handleGrowth > 0) problems.push(`active handles grew from ${start.handles} to ${end.handles}`);
if (wrong > 0) problems.push(`${wrong} wrong answers: ${wrongSamples.join('; ')}`);
if (missing > 0) problems.push(`${missing} questions unanswered at the end`);
if (errors > 0) problems.push(`${errors} errors logged`);
if (stats.historyMismatches > 0) problems.push(`${stats.historyMismatches} rewrites saw another chat's history`);

const report = {
  minutes: MINUTES,
  ratePerSecond: RATE,
  answered,
  rssStartMB: start.rssMB,
  rssEndMB: end.rssMB,
  rssGrowthMB: rssGrowth,
  rssPeakMB: Math.max(...samples.map((x) => x.rssMB)),
  handlesStart: start.handles,
  handlesEnd: end.handles,
  samples,
  problems,
};
const file = writeReport('soak.json', report);
process.stdout.write(
  `\nRSS ${start.rssMB} → ${end.rssMB} MB (${rssGrowth >= 0 ? '+' : ''}${rssGrowth} MB), handles ${start.handles} → ${end.handles}, ${answered} answered, report ${file}\n`,
);
await s.stop();
if (problems.length > 0) {
  process.stdout.write(`FAIL: ${problems.join('; ')}\n`);
  process.exit(1);
}
process.stdout.write('OK\n');
