/** The language each chat chose with /language, in the one-process state file (SQLite); see `ChatLanguages` in stores.ts. */
import type { StateDb } from './state.js';

export class SqliteChatLanguages {
  constructor(
    private readonly state: StateDb,
    private readonly now: () => number = Date.now,
  ) {}

  get(chatId: number): string | null {
    if (!this.state.isOpen()) return null;
    const row = this.state.db.prepare('SELECT lang FROM chat_languages WHERE chat_id = ?').get(chatId) as { lang: string } | undefined;
    return row?.lang ?? null;
  }

  set(chatId: number, lang: string | null): void {
    if (!this.state.isOpen()) return;
    if (lang === null) this.state.db.prepare('DELETE FROM chat_languages WHERE chat_id = ?').run(chatId);
    else
      this.state.db
        .prepare(
          'INSERT INTO chat_languages(chat_id, lang, updated_at) VALUES (?, ?, ?) ON CONFLICT(chat_id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at',
        )
        .run(chatId, lang, this.now());
  }
}
