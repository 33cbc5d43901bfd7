/** Human-readable size in decimal units, as limits are configured: `52.4 MB`, `20 MB`, `1.5 KB`, `300 bytes`. */
export function formatBytes(n: number): string {
  const fmt = (v: number) => (Math.round(v * 10) / 10).toString();
  if (n >= 1_000_000_000) return `${fmt(n / 1_000_000_000)} GB`;
  if (n >= 1_000_000) return `${fmt(n / 1_000_000)} MB`;
  if (n >= 1_000) return `${fmt(n / 1_000)} KB`;
  return `${n} bytes`;
}
