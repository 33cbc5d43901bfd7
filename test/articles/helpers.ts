/**
 * Test inputs for the article loader, built in temporary folders so every test owns its files.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Creates a temporary folder and returns it with a cleanup function. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'articles-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes files (relative path → content) under `dir`, creating folders as needed. */
export async function writeFiles(dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(dir, rel);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
}

function pdfString(s: string): string {
  return `(${s.replace(/[\\()]/g, (c) => '\\' + c)})`;
}

/**
 * A minimal valid PDF with one page and one text object: each entry of `lines` is one line
 * (Helvetica 12 pt, 14 pt leading); an empty string leaves an empty line. The xref table holds
 * real byte offsets, so pdf.js reads it without falling back to repair mode.
 */
export function makePdf(lines: string[], options: { title?: string; encrypt?: boolean } = {}): Uint8Array {
  let content = 'BT /F1 12 Tf 72 720 Td 14 TL\n';
  for (const line of lines) content += line === '' ? 'T*\n' : `${pdfString(line)} Tj T*\n`;
  content += 'ET';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let trailerExtra = '';
  if (options.title !== undefined) {
    objects.push(`<< /Title ${pdfString(options.title)} >>`);
    trailerExtra += ` /Info ${objects.length} 0 R`;
  }
  if (options.encrypt) {
    // Standard security handler with a /U entry no empty password can match: a reader must ask for a password.
    objects.push(`<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <${'ab'.repeat(32)}> /U <${'cd'.repeat(32)}> >>`);
    trailerExtra += ` /Encrypt ${objects.length} 0 R /ID [<${'01'.repeat(16)}> <${'01'.repeat(16)}>]`;
  }
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefAt = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) pdf += `${String(off).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R${trailerExtra} >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(pdf, 'latin1'));
}

/** A paragraph long enough to pass the minimum-text check, made distinct by `tag`. */
export function body(tag: string): string {
  return `The council met on Tuesday to discuss ${tag}. Officials said the plan would take effect next year.`;
}
