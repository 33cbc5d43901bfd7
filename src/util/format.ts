/** Human-readable size in decimal units, as limits are configured: `52.4 MB`, `20 MB`, `1.5 KB`, `300 bytes`. */
export function formatBytes(n: number): string {
  const fmt = (v: number) => (Math.round(v * 10) / 10).toString();
  if (n >= 1_000_000_000) return `${fmt(n / 1_000_000_000)} GB`;
  if (n >= 1_000_000) return `${fmt(n / 1_000_000)} MB`;
  if (n >= 1_000) return `${fmt(n / 1_000)} KB`;
  return `${n} bytes`;
}

/** A duration for people: `180 ms` under a second, `4.2 s` under a minute, then `2 min 05 s`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.max(1, Math.round(seconds * 1000))} ms`;
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}
