/**
 * Keys of the PostgreSQL advisory locks the project takes, in one place so two features never
 * pick the same number by accident. Add new keys here (any distinct 64-bit integer).
 */
export const ADVISORY_LOCKS = {
  /** Held while schema migrations run: one process migrates, the others wait. */
  migrations: 7_310_001n,
  /** Held while a reindex builds a generation: one reindex at a time across replicas. */
  reindex: 7_310_002n,
  /** Held (per transaction) while a feed item is claimed: an item is imported once across replicas. */
  feedItems: 7_310_003n,
  /** Held while a replica uploads a snapshot of a generation: one upload at a time. */
  indexSnapshot: 7_310_004n,
} as const;
