/** An error a user caused (bad file, bad argument): its message is shown to them as is. */
export class UserError extends Error {
  override name = 'UserError';
}

/** An operation that cannot run now because another one is in progress. */
export class BusyError extends UserError {
  override name = 'BusyError';
}

/** The message of an error, or the thrown value as text when it is not an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
