import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeRegExp } from '../../src/util/text.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { tempDir } from '../support/stack.js';
import { cliEnv } from './support.js';

const exec = promisify(execFile);
// The CLI runs with a temp cwd (so no developer .env is read); the loader is passed by absolute URL.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let root: string;
let fake: FakeOpenAI;

/** Environment for the CLI: temp folders, the seed article, the fixture model, no network. */
const env = (extra: Record<string, string> = {}) => cliEnv(root, extra);

function cli(args: string[], extra: Record<string, string> = {}) {
  // cwd is a temp folder so no developer .env is picked up.
  return exec(process.execPath, ['--import', TSX, path.resolve('src/cli/main.ts'), ...args], {
    env: env(extra),
    cwd: root,
  });
}

function chat(
  lines: string[],
  extra: Record<string, string> = {},
  command = 'chat',
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, path.resolve('src/cli/main.ts'), command], { env: env(extra), cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ stdout, stderr, code }));
    child.stdin.end(lines.join('\n') + '\n');
  });
}

beforeAll(async () => {
  root = tempDir();
  fs.mkdirSync(path.join(root, 'articles'));
  fs.copyFileSync('seeds/000_cc2b64a9889106ac.txt', path.join(root, 'articles', '000_cc2b64a9889106ac.txt'));
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('cli', () => {
  it('index prints a summary, and a second run does nothing', async () => {
    const first = await cli(['index']);
    expect(first.stdout).toMatch(/Indexed 1 article \(\d+ chunks\).*1 added/);
    const second = await cli(['index']);
    expect(second.stdout).toMatch(/0 added, 0 changed, 0 removed, 1 unchanged/);
    const full = await cli(['index', '--full']);
    expect(full.stdout).toMatch(/1 added/);
  });

  it('ask answers the seed question with a citation to the seed article (extractive without an LLM)', async () => {
    const { stdout } = await cli(['ask', 'Who is Kolokoltsev meeting at the UN?']);
    expect(stdout).toContain('Extracted from the articles');
    expect(stdout).toContain('Jean-Pierre Lacroix');
    expect(stdout).toMatch(/Sources:\n\[1\] A Kolokoltsev’s arrival.*\(2024-06-27\)/);
  });

  it('ask gives the seed (no headline, no URL) a short title and shows where its file lives', async () => {
    const { stdout } = await cli(['ask', 'Who is Kolokoltsev meeting at the UN?']);
    const source = stdout.split('\n').find((l) => l.startsWith('[1] '))!;
    const title = /^\[1\] (.*) \(2024-06-27\)/.exec(source)![1]!;
    expect(title.length).toBeLessThanOrEqual(80);
    expect(title).toMatch(/^A Kolokoltsev’s arrival .*\S…$/);
    expect(source).toMatch(/\(2024-06-27\) articles\/000_cc2b64a9889106ac\.txt$/);
  });

  it('ask --json prints the structured answer', async () => {
    const { stdout } = await cli(['ask', '--json', 'Who is Kolokoltsev meeting at the UN?']);
    const answer = JSON.parse(stdout) as { mode: string; citations: { n: number; articleId: string; date: string; quote: string }[] };
    expect(answer.mode).toBe('extractive');
    expect(answer.citations[0]).toMatchObject({ n: 1, articleId: '000_cc2b64a9889106ac', date: '2024-06-27' });
    expect(answer.citations[0]!.quote.length).toBeGreaterThan(10);
  });

  it('ask --json shows the query retrieval got and its language: the English query the model wrote for a Russian question', async () => {
    fake.reset();
    fake.setHandler((req) =>
      /standalone search query in English/.test(req.messages[0]?.content ?? '')
        ? 'Who will Kolokoltsev hold bilateral meetings with?'
        : 'Колокольцев встретится с Жан-Пьером Лакруа [1].',
    );
    const { stdout } = await cli(['ask', '--json', 'С кем проведёт двусторонние встречи Колокольцев?'], {
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'sk-test-123456',
    });
    const answer = JSON.parse(stdout) as {
      query: string;
      queryLanguage: string;
      questionLanguage: string;
      text: string;
      citations: unknown[];
    };
    expect(answer).toMatchObject({
      query: 'Who will Kolokoltsev hold bilateral meetings with?',
      queryLanguage: 'en',
      questionLanguage: 'ru',
      text: 'Колокольцев встретится с Жан-Пьером Лакруа [1].',
    });
    expect(answer.citations).toHaveLength(1);
  });

  it('ask uses the LLM when OPENAI_BASE_URL is set, with the sources in the prompt', async () => {
    fake.reset();
    fake.setHandler(() => 'Kolokoltsev is meeting Jean-Pierre Lacroix, the UN peacekeeping chief [1].');
    const { stdout } = await cli(['ask', 'Who is Kolokoltsev meeting at the UN?'], {
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'sk-test-123456',
    });
    expect(stdout).toContain('Kolokoltsev is meeting Jean-Pierre Lacroix, the UN peacekeeping chief [1].');
    expect(stdout).not.toContain('Extracted');
    const prompt = JSON.stringify(fake.chatRequests().at(-1));
    expect(prompt).toContain('Irina Volk');
  });

  it('says on the terminal which answer model failed, where, and why; the answer itself stays the same', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/v1`;
    const down = { OPENAI_BASE_URL: url, OPENAI_API_KEY: 'sk-test-123456', LLM_MAX_RETRIES: '0' };
    const line = `Note: the answer model gpt-4o-mini at ${url} did not answer (cannot connect: connect ECONNREFUSED 127.0.0.1:${port}).`;
    const { stdout, stderr } = await cli(['ask', 'Who is Kolokoltsev meeting at the UN?'], down);
    expect(stdout).toContain('the answer service is unavailable right now');
    expect(stdout).not.toContain(url);
    expect(stderr.split('\n')).toContain(line);
    // A chat says it once, not after every answer.
    const chatted = await chat(['Who is Kolokoltsev meeting at the UN?', 'What did he ask for?'], down);
    expect(chatted.code).toBe(0);
    expect(chatted.stderr.split('\n').filter((l) => l === line)).toHaveLength(1);

    fake.reset();
    fake.setHandler(() => 401);
    const refused = await cli(['ask', 'Who is Kolokoltsev meeting at the UN?'], {
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'sk-test-123456',
    });
    expect(refused.stderr).toMatch(
      new RegExp(`^Note: the answer model gpt-4o-mini at ${escapeRegExp(fake.url)} did not answer \\(request refused: 401 .*\\)\\.$`, 'm'),
    );
  });

  it('chat answers piped questions line by line and resolves follow-ups', async () => {
    const { stdout, code } = await chat(['Who is Kolokoltsev meeting at the UN?', 'What did he ask for?', '/sources', '/reset']);
    expect(code).toBe(0);
    const answers = stdout.split(/^> /m).filter(Boolean);
    expect(answers[0]).toContain('Lacroix');
    expect(answers[1]).toMatch(/What did he ask for\?[\s\S]*UN assessment/);
    expect(stdout).toContain('Conversation reset.');
  });

  it('chat answers the follow-up "What did he ask the UN for?" with the request first, not the meeting sentence again', async () => {
    const { stdout, code } = await chat(['Who will Kolokoltsev hold bilateral meetings with?', 'What did he ask the UN for?']);
    expect(code).toBe(0);
    const [meeting, request] = stdout.split(/^> /m).filter((a) => a.includes('?\n'));
    // Each answer opens with its answering sentence, right under the question.
    expect(meeting).toMatch(/^Who will Kolokoltsev hold bilateral meetings with\?\n“In Moscow, [^\n]*Jean-Pierre Lacroix\.” \[1\]\n/);
    expect(request).toMatch(/^What did he ask the UN for\?\n“Volk, [^\n]*asked for a UN assessment\.” \[1\]\n/);
    expect(request).not.toContain('bilateral meetings');
    expect(request!.match(/no AI summary/g)).toHaveLength(1);
  });

  it('chat lists its commands on /help and answers an unknown /command with a hint, never as a question', async () => {
    const { stdout, code } = await chat(['/help', '/foo', '/foo bar']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\/reset[\s\S]*\/sources[\s\S]*\/quit/);
    expect(stdout.match(/Unknown command: \/foo\. Try \/help/g)).toHaveLength(2);
    expect(stdout).not.toContain('Sources:');
    expect(stdout).not.toContain('Extracted');
  });

  it('start without a token runs the terminal chat with a one-line note', async () => {
    const { stdout, stderr, code } = await chat(['Who is Kolokoltsev meeting at the UN?'], {}, 'start');
    expect(code).toBe(0);
    expect(stderr).toMatch(/No TELEGRAM_BOT_TOKEN set: starting the terminal chat/);
    // Service logs would interleave with the conversation in a terminal.
    expect(stderr).not.toMatch(/"level":"info"/);
    expect(stdout).toContain('Lacroix');
  });

  it('reports a bad setting in one line without a stack trace', async () => {
    const err = (await cli(['ask', 'hi'], { RETRIEVAL_K: 'lots' }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr.trim()).toMatch(/^Configuration error: Invalid RETRIEVAL_K="lots"/);
    expect(err.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('explains a missing question and an unknown command', async () => {
    const noQ = (await cli(['ask']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(noQ.code).toBe(1);
    expect(noQ.stderr).toMatch(/Give a question/);
    expect(noQ.stderr).not.toMatch(/at .*\.ts:\d+/);
    const unknown = (await cli(['frobnicate']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(unknown.stderr).toMatch(/Unknown command "frobnicate"/);
  });
});

describe('cli conventions', () => {
  it('an unknown option gets one line with the option probably meant and where the help is', async () => {
    const fail = async (args: string[]) => (await cli(args).catch((e: unknown) => e)) as { code: number; stderr: string };
    const typo = await fail(['index', '--ful']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toBe('Unknown option --ful for index. Did you mean --full? (npm run index -- --help)\n');
    expect((await fail(['ask', '--jsno', 'hi'])).stderr).toBe(
      'Unknown option --jsno for ask. Did you mean --json? (npm run ask -- --help)\n',
    );
    expect((await fail(['chat', '--verbose'])).stderr).toBe(
      'Unknown option --verbose for chat. Its options: --allow-mass-delete. (npm run chat -- --help)\n',
    );
    expect((await fail(['index', 'extra'])).stderr).toBe('Unexpected argument "extra" for index. (npm run index -- --help)\n');
    expect((await fail(['bench', '--quik'])).stderr).toBe(
      'Unknown option --quik for bench. Did you mean --quick? (npm run bench -- --help)\n',
    );
    expect((await fail(['eval', '--no-answer'])).stderr).toBe(
      'Unknown option --no-answer for eval. Did you mean --no-answers? (npm run eval -- --help)\n',
    );
  });

  it("each command's --help is its own: its options, not the general list", async () => {
    const help = async (args: string[]) => (await cli(args)).stdout;
    const general = await help(['--help']);
    expect(general).toContain('npm run worker');
    const index = await help(['index', '--help']);
    expect(index).toMatch(/^Usage: npm run index -- \[--full\] \[--feeds\] \[--allow-mass-delete\]/);
    expect(index).toMatch(/--full +rebuild the whole index/);
    expect(index).not.toContain('npm run worker');
    const ask = await help(['ask', '-h']);
    expect(ask).toMatch(/^Usage: npm run ask -- "question"/);
    expect(ask).toMatch(/--json +print the answer/);
    expect(ask).not.toContain('--full');
    expect(await help(['start', '--help'])).toMatch(/^Usage: npm start[\s\S]*TELEGRAM_BOT_TOKEN/);
    expect(await help(['chat', '--help'])).toMatch(/^Usage: npm run chat[\s\S]*\/sources/);
    expect(await help(['worker', '--help'])).toMatch(/^Usage: npm run worker[\s\S]*DATABASE_URL/);
    for (const own of [index, ask]) expect(own).not.toBe(general);
  }, 120_000);

  it('--help and -h print the usage and exit 0 with no error line, on every command and with none', async () => {
    for (const command of [[], ['start'], ['index'], ['ask'], ['chat'], ['eval'], ['bench']]) {
      for (const flag of ['--help', '-h']) {
        const { stdout, stderr } = await cli([...command, flag]);
        expect(stdout, `${command.join(' ')} ${flag}`).toMatch(/^Usage/);
        expect(stderr, `${command.join(' ')} ${flag}`).toBe('');
      }
    }
  }, 180_000);

  it('npx newsdesk ask --json prints pure JSON on stdout', async () => {
    // --prefix finds the project's own bin while the command runs in the temp cwd.
    const { stdout } = await exec(
      'npx',
      ['--prefix', path.resolve('.'), 'newsdesk', 'ask', '--json', 'Who is Kolokoltsev meeting at the UN?'],
      {
        env: env(),
        cwd: root,
      },
    );
    const answer = JSON.parse(stdout) as { mode: string; citations: { articleId: string }[] };
    expect(answer.citations[0]!.articleId).toBe('000_cc2b64a9889106ac');
  });

  it('npm run reindex rebuilds everything', async () => {
    const { stdout } = await exec('npm', ['run', '--silent', 'reindex'], { env: env(), cwd: path.resolve('.') });
    expect(stdout).toMatch(/Indexed 1 article .*1 added/);
  });

  it('warns when npm swallowed --full (npm run index --full without --)', async () => {
    const { stdout, stderr } = await cli(['index'], { npm_config_full: 'true' });
    expect(stderr).toMatch(/npm took --full for itself.*npm run index -- --full.*npm run reindex/);
    expect(stdout).toMatch(/0 added/);
    const quiet = await cli(['index']);
    expect(quiet.stderr).not.toMatch(/npm took --full/);
  });
});

/** A 127.0.0.1 port nothing listens on (taken, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
