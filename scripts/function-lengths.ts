/**
 * Lists functions longer than a limit (default 120 lines) in src/ and scripts/, longest first;
 * exits 1 when there is one. Biome warns from 80 lines; this is the hard ceiling.
 * Usage: npx tsx scripts/function-lengths.ts [maxLines]
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const max = Number(process.argv[2] ?? 120);

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(p);
    else if (entry.name.endsWith('.ts')) yield p;
  }
}

function nameOf(node: ts.Node, file: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(file);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText(file);
  return '(anonymous)';
}

const long: { lines: number; where: string }[] = [];
for (const root of ['src', 'scripts']) {
  for (const file of sourceFiles(root)) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const lines = end - start + 1;
        if (lines > max) long.push({ lines, where: `${file}:${start + 1} ${nameOf(node, source)}` });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
}
for (const f of long.sort((a, b) => b.lines - a.lines)) console.log(`${String(f.lines).padStart(4)}  ${f.where}`);
console.log(long.length === 0 ? `No function over ${max} lines.` : `${long.length} function(s) over ${max} lines.`);
process.exitCode = long.length === 0 ? 0 : 1;
