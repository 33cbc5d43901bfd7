/**
 * Locale completeness: a locale must have every message English has, use no placeholder English
 * does not give that message (the code fills in only English's), and keep its Telegram HTML tags.
 * `test/i18n/locales.test.ts` runs this on every shipped locale.
 */
import { FluentResource } from '@fluent/bundle';

/** What a message uses: its placeholders (`{ $name }`) and its HTML tags, in order. */
interface MessageShape {
  variables: Set<string>;
  tags: string[];
}

/** A message definition line: `key = …` at the start of a line. */
const DEFINITION = /^([a-zA-Z][a-zA-Z0-9_-]*)\s*=/gm;
/** Telegram HTML's tags (`<topic>` in a plain-text usage line is not one). */
const TAG = /<\/?(?:b|i|u|s|code|pre|a|blockquote)\b/g;

function collectVariables(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) collectVariables(n, into);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (record.type === 'var' && typeof record.name === 'string') into.add(record.name);
  for (const value of Object.values(record)) collectVariables(value, into);
}

function collectText(node: unknown, into: string[]): void {
  if (typeof node === 'string') into.push(node);
  else if (Array.isArray(node)) for (const n of node) collectText(n, into);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) if (key !== 'name' && key !== 'type') collectText(value, into);
  }
}

/**
 * The messages of a Fluent source by id, or the definitions that did not parse (Fluent skips
 * a broken entry silently, so a typo would otherwise just make a message "missing").
 */
export function parseLocale(source: string): { messages: Map<string, MessageShape>; unparsed: string[] } {
  const resource = new FluentResource(source);
  const messages = new Map<string, MessageShape>();
  for (const message of resource.body) {
    if (message.id.startsWith('-')) continue;
    const variables = new Set<string>();
    collectVariables([message.value, message.attributes], variables);
    const text: string[] = [];
    collectText(message.value, text);
    messages.set(message.id, { variables, tags: text.join('').match(TAG) ?? [] });
  }
  const defined = [...source.matchAll(DEFINITION)].map((m) => m[1]!);
  return { messages, unparsed: defined.filter((id) => !messages.has(id)) };
}

/** Every way `candidate` (a locale's Fluent source) falls short of `reference` (English's); empty when it is complete. */
export function localeProblems(reference: string, candidate: string): string[] {
  const english = parseLocale(reference);
  const other = parseLocale(candidate);
  const problems = [...english.unparsed, ...other.unparsed].map((id) => `${id}: does not parse`);
  for (const [id, shape] of english.messages) {
    const theirs = other.messages.get(id);
    if (!theirs) {
      if (!other.unparsed.includes(id)) problems.push(`${id}: missing`);
      continue;
    }
    for (const v of theirs.variables) if (!shape.variables.has(v)) problems.push(`${id}: placeholder { $${v} } that English lacks`);
    const tags = (t: string[]) => [...t].sort().join(' ');
    if (tags(theirs.tags) !== tags(shape.tags))
      problems.push(`${id}: HTML tags ${tags(theirs.tags) || 'none'}, English has ${tags(shape.tags) || 'none'}`);
  }
  for (const id of other.messages.keys()) if (!english.messages.has(id)) problems.push(`${id}: not in English (a renamed key?)`);
  return problems;
}
