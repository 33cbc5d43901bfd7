/**
 * PostgreSQL schema of the bot's shared state (migration 20 in src/schema.ts): the same
 * tables as the SQLite state file, plus the rate-limit windows and the kept undelivered answers,
 * which one process keeps in memory but replicas must share. Times are ms since epoch (bigint),
 * as the bot's clock gives them, so tests can drive them; replicas' clocks must agree (NTP).
 */
export const BOT_STATE_SQL = `
CREATE TABLE bot_exchanges (
  id bigserial PRIMARY KEY,
  chat_id bigint NOT NULL,
  parent_id bigint,
  question text NOT NULL,
  answer text NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX bot_exchanges_chat ON bot_exchanges (chat_id);
CREATE INDEX bot_exchanges_created ON bot_exchanges (created_at);
CREATE TABLE bot_heads (
  chat_id bigint PRIMARY KEY,
  exchange_id bigint,
  updated_at bigint NOT NULL
);
CREATE TABLE bot_answer_messages (
  chat_id bigint NOT NULL,
  message_id bigint NOT NULL,
  exchange_id bigint NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX bot_answer_messages_created ON bot_answer_messages (created_at);
CREATE TABLE bot_quotes (
  key text PRIMARY KEY,
  chat_id bigint NOT NULL,
  payload jsonb NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX bot_quotes_expires ON bot_quotes (expires_at);
CREATE TABLE bot_counters (
  name text PRIMARY KEY,
  value bigint NOT NULL
);
-- One row per user with messages in the window: their times and the quiet-until of a refusal.
CREATE TABLE bot_rate_limits (
  user_id bigint PRIMARY KEY,
  times bigint[] NOT NULL,
  warned_until bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX bot_rate_limits_updated ON bot_rate_limits (updated_at);
CREATE TABLE bot_undelivered (
  chat_id bigint PRIMARY KEY,
  item jsonb NOT NULL,
  kept_at bigint NOT NULL
);
CREATE TABLE admin_audit (
  id bigserial PRIMARY KEY,
  at bigint NOT NULL,
  user_id bigint NOT NULL,
  user_name text,
  action text NOT NULL,
  target text NOT NULL,
  outcome text NOT NULL
);
`;

/**
 * Migration 26: the language each chat chose with /language, shared so every replica answers a
 * chat in the language it picked.
 */
export const CHAT_LANGUAGES_SQL = `
CREATE TABLE bot_chat_languages (
  chat_id bigint PRIMARY KEY,
  lang text NOT NULL,
  updated_at bigint NOT NULL
);
`;
