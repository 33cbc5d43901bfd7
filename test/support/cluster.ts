/**
 * Processes for the multi-process tests (test/cluster): `npm start` replicas in webhook mode behind
 * a small load balancer the test steers, `npm run worker` processes and one-off commands, all
 * spawned over a cleaned environment with the fixture model and captured output and JSON log lines.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { createRequire } from 'node:module';
import type net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { until } from './bot-process.js';
import { FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from './fixture-model.js';
import { mdArticle } from './stack.js';
import { FAKE_TOKEN, freePort, type TelegramHarness } from './telegram.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MAIN = path.resolve('src/cli/main.ts');
/** The articles folder the cluster tests start from. */
export const CLUSTER_ARTICLES: Record<string, string> = {
  'chess.md': mdArticle(
    'Ingrid Solberg wins the Tromsø chess open',
    '2024-07-02',
    'Ingrid Solberg won the Tromsø chess open on Sunday, beating the defending champion in the final round. ' +
      'The tournament drew 140 players from 22 countries to the Arctic city.',
  ),
  'ferry.md': mdArticle(
    'Harbour ferry timetable changes in Bergen',
    '2024-07-05',
    'The Bergen harbour ferry will run every twenty minutes from August. The city says the new boats are quieter.',
  ),
};

/** The page an admin `/add`s in the cluster tests. */
export const BRIDGE_HTML = `<!doctype html><html><head><title>Fjord Link bridge opens in Nordby</title></head><body><article>
<h1>Fjord Link bridge opens in Nordby</h1><p>The Fjord Link bridge in Nordby opened to traffic on Monday after four years of work.</p>
<p>Engineers say the 900 metre span was built to withstand winter storms from the sea.</p></article></body></html>`;

/** The webhook secret every replica is started with (the balancer adds it, as Telegram would). */
export const WEBHOOK_SECRET = 'replica-test-secret';

/** A spawned process: its webhook port (0 for others), and what it wrote. */
export interface Replica {
  name: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  /** Parsed JSON log lines so far. */
  events: () => { event: string; [k: string]: unknown }[];
}

export { until };

/** The processes of one test file, the balancer in front of the replicas, and their shutdown. */
export class Cluster {
  readonly processes: Replica[] = [];
  /** The replica the balancer sends the next webhook call to. */
  target: Replica | undefined;
  private balancer: http.Server | undefined;
  private balancerPort = 0;

  /** `env` holds what every process shares (DATABASE_URL, for example). */
  constructor(
    readonly root: string,
    readonly harness: TelegramHarness,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts the load balancer: Telegram's webhook calls go to `target`, with the secret Telegram would add. */
  async startBalancer(): Promise<number> {
    this.balancer = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const to = this.target!;
      const answer = await fetch(`http://127.0.0.1:${to.port}/hook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET },
        body: Buffer.concat(chunks),
      }).catch(() => null);
      res.writeHead(answer?.status ?? 502).end();
    });
    this.balancer.listen(0, '127.0.0.1');
    await once(this.balancer, 'listening');
    this.balancerPort = (this.balancer.address() as net.AddressInfo).port;
    return this.balancerPort;
  }

  /**
   * Spawns `main.ts <command>` over a cleaned environment with the settings every process shares
   * (fixture model, log level, the cluster's `env`), its own STATE_DIR, plus `env`.
   */
  spawn(name: string, args: string[], port: number, env: Record<string, string>): Replica {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(OPENAI_|TELEGRAM_|EMBEDDING_|DATABASE_|WEBHOOK_|LOCAL_MODEL_DIR|FEED_|npm_config_)/.test(k),
      ),
    );
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      env: {
        ...clean,
        STATE_DIR: path.join(this.root, `state-${name}`),
        MODEL_CACHE_DIR: path.join(this.root, 'cache'),
        LOCAL_MODEL_DIR: FIXTURE_MODELS_DIR,
        EMBEDDING_MODEL: FIXTURE_MODEL_ID,
        ALLOW_REMOTE_MODELS: 'false',
        EMBEDDING_QUANTIZED: 'false',
        LOG_LEVEL: 'info',
        ...this.env,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const started: Replica = {
      name,
      port,
      child,
      output: () => out,
      events: () =>
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { event: string }),
    };
    this.processes.push(started);
    return started;
  }

  /** Starts an `npm start` replica in webhook mode behind the balancer; resolves once the bot runs. */
  async startReplica(name: string, env: Record<string, string>, admin: number): Promise<Replica> {
    const port = await freePort();
    const replica = this.spawn(name, ['start'], port, {
      CHUNK_MAX_TOKENS: '96',
      TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
      TELEGRAM_API_ROOT: this.harness.apiRoot,
      WEBHOOK_URL: `http://127.0.0.1:${this.balancerPort}/hook`,
      WEBHOOK_SECRET,
      WEBHOOK_PORT: String(port),
      WEBHOOK_HOST: '127.0.0.1',
      ADMIN_USER_IDS: String(admin),
      ALLOW_PRIVATE_URLS: 'true',
      RATE_LIMIT_PER_MINUTE: '100',
      ...env,
    });
    await until(() => replica.events().some((e) => e.event === 'bot.started'), 90_000, `replica ${name} to start:\n${replica.output()}`);
    return replica;
  }

  /** Runs a command to its end; resolves with its exit code and output. */
  async run(name: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const p = this.spawn(name, args, 0, env);
    const [code] = (await once(p.child, 'exit')) as [number | null];
    return { code, output: p.output() };
  }

  /** Stops every process (SIGTERM, then SIGKILL after 10 s) and the balancer. */
  async stop(): Promise<void> {
    for (const r of this.processes) {
      if (r.child.exitCode === null && r.child.signalCode === null) {
        r.child.kill('SIGTERM');
        await Promise.race([once(r.child, 'exit'), new Promise((res) => setTimeout(res, 10_000))]);
        r.child.kill('SIGKILL');
      }
    }
    this.balancer?.close();
  }
}
