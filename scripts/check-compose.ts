/**
 * Checks compose.yaml against the product's configuration, offline (no Docker needed):
 * - every variable a newsdesk service sets is one the config reads (a typo would be ignored silently);
 * - with sample values for the required `${VAR:?}` settings, each service's environment (plus the
 *   image's defaults from the Dockerfile's ENV) parses as a valid Config, in webhook mode for the bots;
 * - the reverse proxy forwards to the bots' webhook port and path.
 *
 *   npx tsx scripts/check-compose.ts            (prints one line per service; exit 1 on a problem)
 */
import fs from 'node:fs';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, parseConfig } from '../src/config/index.js';

const SAMPLE: Record<string, string> = {
  TELEGRAM_BOT_TOKEN: '123456:sample-token',
  POSTGRES_PASSWORD: 'sample-password',
  PUBLIC_HOST: 'bot.example.org',
  WEBHOOK_SECRET: 'sample-secret',
  METRICS_TOKEN: 'sample-metrics-token',
};

/** `${NAME}`, `${NAME:-default}` and `${NAME:?message}` as Compose interpolates them. */
function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const given = SAMPLE[name];
    if (given !== undefined) return given;
    if (op === '?') throw new Error(`${name} is required but has no sample value`);
    return op === '-' ? (arg ?? '') : '';
  });
}

/** The Dockerfile's runtime ENV (the last stage's `ENV a=b \ c=d` block). */
function imageEnv(dockerfile: string): Record<string, string> {
  const block = dockerfile.match(/^ENV ((?:.*\\\n)*.*)$/m)?.[1] ?? '';
  return Object.fromEntries([...block.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

const compose = parse(fs.readFileSync('compose.yaml', 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; environment?: Record<string, string | number>; command?: string[] }>;
};
const image = imageEnv(fs.readFileSync('Dockerfile', 'utf8'));
const known = new Set<string>(CONFIG_VARIABLES);
const problems: string[] = [];
for (const [name, service] of Object.entries(compose.services)) {
  if (service.image !== 'newsdesk-bot:latest') continue;
  const env: Record<string, string> = { ...image };
  for (const [k, v] of Object.entries(service.environment ?? {})) {
    if (!known.has(k)) problems.push(`${name}: ${k} is not a setting the bot reads`);
    env[k] = interpolate(String(v));
  }
  try {
    const config = parseConfig(env, '/app');
    const role = service.command?.[0] ?? 'start';
    if (role === 'start' && !config.telegram.webhookUrl) problems.push(`${name}: a replica without WEBHOOK_URL would long-poll`);
    if (!config.database.url) problems.push(`${name}: no DATABASE_URL`);
    console.log(
      `${name}: ${role}, valid config (webhook ${config.telegram.webhookUrl ?? '-'} on ${config.telegram.webhookHost}:${config.telegram.webhookPort}, metrics ${config.metrics.host}:${config.metrics.port})`,
    );
  } catch (err) {
    problems.push(`${name}: ${(err as Error).message}`);
  }
}
const caddy = fs.readFileSync('deploy/Caddyfile', 'utf8');
if (!/reverse_proxy bot-1:8080 bot-2:8080/.test(caddy)) problems.push('Caddyfile: does not forward to bot-1:8080 and bot-2:8080');
if (
  !caddy.includes('handle /telegram-webhook') ||
  !String(compose.services['bot-1']?.environment?.WEBHOOK_URL).endsWith('/telegram-webhook')
) {
  problems.push('Caddyfile and WEBHOOK_URL disagree on the webhook path');
}
for (const p of problems) console.error(`problem: ${p}`);
process.exit(problems.length ? 1 : 0);
