/**
 * Who may do what. Admins are numeric user ids from the config, checked on every
 * call (never cached, never usernames). The optional allowlist restricts the
 * whole bot to listed users or chats; everyone else is refused once, politely.
 */
import type { Config } from '../config/index.js';

type TelegramConfig = Config['telegram'];

/** True when `userId` is one of the configured admins. */
export function isAdmin(config: TelegramConfig, userId: number | undefined): boolean {
  return userId !== undefined && config.adminUserIds.includes(userId);
}

/** True when the allowlist is off, or the user, the chat, or an admin is on it. */
export function isAllowed(config: TelegramConfig, userId: number | undefined, chatId: number | undefined): boolean {
  const restricted = config.allowedUserIds.length > 0 || config.allowedChatIds.length > 0;
  if (!restricted) return true;
  if (isAdmin(config, userId)) return true;
  if (userId !== undefined && config.allowedUserIds.includes(userId)) return true;
  return chatId !== undefined && config.allowedChatIds.includes(chatId);
}

/** Remembers who has already been refused, so each gets exactly one refusal (bounded memory). */
export class RefusedOnce {
  private readonly seen = new Set<string>();

  constructor(private readonly max = 100_000) {}

  /** True the first time `key` is seen. */
  first(key: string): boolean {
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.max) this.seen.clear();
    this.seen.add(key);
    return true;
  }
}
