/** Fixed-width text tables for terminal output and Markdown reports. */

/** How `formatTable` lays out its rows. */
export type TableStyle =
  /** Columns separated by two spaces, a dashed rule under the header, the first column left-aligned and the rest right-aligned, no trailing newline. */
  | 'plain'
  /** A Markdown (GFM) table with every column left-aligned and padded, ending in a newline. */
  | 'markdown';

/** Lays out `rows` under `header` with every column padded to its widest cell. */
export function formatTable(header: string[], rows: string[][], style: TableStyle = 'plain'): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  if (style === 'markdown') {
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n') + '\n';
  }
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
