/**
 * The command menu: every command once, with who sees it; its description is the locale's
 * `menu-<command>` message. At start the menu is published once per shipped language
 * (`setMyCommands` with `language_code`; English is the default for every other language), for
 * everyone, and with the admin commands added in each admin's private chat.
 *
 * A table rather than `@grammyjs/commands`: that plugin wants to own the handlers too (its
 * `CommandGroup` registers them, with its own context flavour), while here each feature's Composer
 * registers its commands behind its own guards (`adminOnly`, the desk, alerts); the menu is the
 * only thing the two lists shared.
 */
import type { Api } from 'grammy';
import type { BotCommand, LanguageCode } from 'grammy/types';
import { DEFAULT_LANGUAGE, SHIPPED_LANGUAGES, translator } from '../i18n/index.js';
import type { Logger } from '../util/log.js';
import { errorFields } from './logging.js';

/** A command in the menu: `admin` ones only in admins' private chats. */
export interface MenuCommand {
  command: string;
  admin: boolean;
}

/** Every command the menu shows, in menu order. */
export const MENU: readonly MenuCommand[] = [
  ...['start', 'help', 'sources', 'reset', 'forgetme', 'follow', 'following', 'unfollow', 'language'].map((command) => ({
    command,
    admin: false,
  })),
  ...['reindex', 'add', 'remove', 'stats', 'feeds', 'feed', 'audit', 'gaps'].map((command) => ({ command, admin: true })),
];

/** The menu in `lang`: the public commands, and the admin ones too when `admin`. */
export function menuCommands(lang: string, admin: boolean): BotCommand[] {
  const t = translator(lang);
  return MENU.filter((c) => admin || !c.admin).map((c) => ({ command: c.command, description: t(`menu-${c.command}`) }));
}

/**
 * Publishes the menu in every shipped language: for everyone, plus admin commands in each admin's
 * chat. A scope whose calls fail is logged once (usually an admin who has not opened a chat with
 * the bot yet; the commands still work when typed).
 */
export async function registerCommands(api: Api, adminIds: readonly number[], log: Logger): Promise<void> {
  const scopes: { name: 'default' | 'admin'; userId?: number }[] = [
    { name: 'default' },
    ...adminIds.map((id) => ({ name: 'admin' as const, userId: id })),
  ];
  for (const scope of scopes) {
    let failure: unknown = null;
    for (const lang of SHIPPED_LANGUAGES) {
      const commands = menuCommands(lang, scope.name === 'admin');
      try {
        await api.setMyCommands(commands, {
          ...(scope.userId === undefined ? {} : { scope: { type: 'chat', chat_id: scope.userId } }),
          ...(lang === DEFAULT_LANGUAGE ? {} : { language_code: lang as LanguageCode }),
        });
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== null)
      log.warn('bot.set_commands_failed', {
        scope: scope.name,
        ...(scope.userId === undefined ? {} : { user_id: scope.userId }),
        error: errorFields(failure),
      });
  }
}
