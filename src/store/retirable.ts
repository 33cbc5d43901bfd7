/**
 * The reference count both index readers share: a reader serving searches is retired when a
 * newer generation takes over, and closes once the last search still using it releases it.
 */
export abstract class Retirable {
  private users = 0;
  private retired = false;

  /** Frees what the reader holds; called once no search uses a retired reader. */
  abstract close(): void;

  /** Marks the reader as used by one search in progress; pair with `release()`. */
  retain(): void {
    this.users++;
  }

  /** Ends one `retain()`; closes the reader if it was retired and this was its last user. */
  release(): void {
    this.users--;
    if (this.retired && this.users <= 0) this.close();
  }

  /** Closes the reader now if no search uses it, else when the last one releases it. */
  retire(): void {
    this.retired = true;
    if (this.users <= 0) this.close();
  }
}
