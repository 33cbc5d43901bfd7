/** An error a user caused (bad file, bad argument): its message is shown to them as is. */
export class UserError extends Error {
  override name = 'UserError';
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
