/**
 * Deciding whether a message is meant for the bot. In private chats every
 * message is; in groups only a mention, a reply to the bot, or a command
 * addressed to it (bare or `/cmd@thisbot`) counts, so ordinary chatter is left alone.
 */
import type { Message, UserFromGetMe } from 'grammy/types';
import { escapeRegExp } from '../util/text.js';

/** The bot identity needed to recognise mentions. */
export type BotIdentity = Pick<UserFromGetMe, 'id' | 'username'>;

function mentionPattern(username: string): RegExp {
  return new RegExp(`(^|[^\\w@])@${escapeRegExp(username)}\\b`, 'gi');
}

/** The command a message starts with, split into name and optional @target; null for non-commands. */
export function leadingCommand(msg: Pick<Message, 'text' | 'entities'>): { name: string; target: string | null } | null {
  const entity = msg.entities?.find((e) => e.type === 'bot_command' && e.offset === 0);
  if (!entity || !msg.text) return null;
  const raw = msg.text.slice(1, entity.length);
  const [name = '', target] = raw.split('@');
  return { name: name.toLowerCase(), target: target ?? null };
}

/** True when `msg` mentions, replies to, or commands the bot. */
export function addressesBot(msg: Message, me: BotIdentity): boolean {
  if (msg.reply_to_message?.from?.id === me.id) return true;
  const command = leadingCommand(msg);
  if (command) return command.target === null || command.target.toLowerCase() === me.username.toLowerCase();
  const text = msg.text ?? msg.caption ?? '';
  const entities = msg.entities ?? msg.caption_entities ?? [];
  for (const e of entities) {
    if (e.type === 'text_mention' && e.user.id === me.id) return true;
    if (e.type === 'mention' && text.slice(e.offset, e.offset + e.length).toLowerCase() === `@${me.username.toLowerCase()}`) return true;
  }
  return mentionPattern(me.username).test(text);
}

/** The message text without mentions of the bot. */
export function stripMention(text: string, me: BotIdentity): string {
  return text
    .replace(mentionPattern(me.username), '$1')
    .replace(/\s{2,}/g, ' ')
    .trim();
}
