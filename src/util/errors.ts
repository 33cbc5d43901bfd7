/**
 * The errors a user can cause or fix, in one place: each is a `UserError`, whose message is one
 * line shown as is (what went wrong and what to do). Anything else thrown is a programmer error.
 */

/** An error a user caused (bad file, bad argument): its message is shown to them as is. */
export class UserError extends Error {
  override name = 'UserError';
}

/**
 * A user-caused configuration problem: one line naming the variable, shown as is like any
 * UserError, and prefixed so the reader knows where to look.
 */
export class ConfigError extends UserError {
  override name = 'ConfigError';

  constructor(message: string) {
    super(`Configuration error: ${message}`);
  }
}

/** The embedding model could not be loaded; `reason` is a short, user-readable cause. */
export class ModelLoadError extends UserError {
  override name = 'ModelLoadError';
  constructor(
    readonly model: string,
    readonly reason: string,
  ) {
    super(`Embedding model ${model} could not be loaded (${reason}).`);
  }
}

/** The database cannot be reached now, or no connection became free in time. The caller may retry later. */
export class DatabaseUnavailableError extends UserError {
  override name = 'DatabaseUnavailableError';
}

/** An operation that cannot run now because another one is in progress. */
export class BusyError extends UserError {
  override name = 'BusyError';
}

/**
 * A (re)index refused because it would remove every article, or more than half of them, from a
 * non-empty index: an empty or wrong articles folder must never wipe the index by accident.
 * Front ends say how to confirm (the CLI's --allow-mass-delete, the bot's Confirm button).
 */
export class MassDeleteError extends UserError {
  override name = 'MassDeleteError';

  constructor(
    message: string,
    /** Articles the run would remove. */
    readonly removed: number,
    /** Articles in the index now. */
    readonly indexed: number,
    /** Articles the folder holds now. */
    readonly inFolder: number,
  ) {
    super(message);
  }
}

/** The message of an error, or the thrown value as text when it is not an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
