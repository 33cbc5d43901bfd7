/**
 * A strict stand-in for Telegram's HTML parse mode, used by the harness to
 * refuse messages the real Bot API would refuse (and a little more: raw `&`
 * and `>` count as errors, so escaping bugs cannot hide).
 */

const ALLOWED = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'span',
  'tg-spoiler',
  'a',
  'tg-emoji',
  'code',
  'pre',
  'blockquote',
]);

/** The visible text of a valid message, or the reason Telegram would refuse it. */
export type HtmlCheck = { ok: true; text: string } | { ok: false; error: string };

/** Parses `html` the way Telegram's HTML mode does (strictly) and returns the visible text or an error. */
export function checkTelegramHtml(html: string): HtmlCheck {
  const stack: string[] = [];
  let text = '';
  let i = 0;
  while (i < html.length) {
    const ch = html[i]!;
    if (ch === '<') {
      const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:="[^"<>]*")?)*)\s*>/.exec(html.slice(i));
      if (!m) return { ok: false, error: `Unexpected "<" at offset ${i}` };
      const [raw, close, nameRaw, attrs] = m;
      const name = nameRaw!.toLowerCase();
      if (!ALLOWED.has(name)) return { ok: false, error: `Unsupported start tag "${name}" at offset ${i}` };
      if (close) {
        if (stack.pop() !== name) return { ok: false, error: `Unmatched end tag "${name}" at offset ${i}` };
      } else {
        if (name === 'a' && !/\shref="[^"]+"/.test(attrs ?? '')) return { ok: false, error: `<a> without href at offset ${i}` };
        if (/&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)/.test(attrs ?? ''))
          return { ok: false, error: `Unescaped "&" in attribute at offset ${i}` };
        stack.push(name);
      }
      i += raw!.length;
      continue;
    }
    if (ch === '&') {
      const m = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/.exec(html.slice(i));
      if (!m) return { ok: false, error: `Unescaped "&" at offset ${i}` };
      const e = m[1]!;
      text +=
        e === 'lt'
          ? '<'
          : e === 'gt'
            ? '>'
            : e === 'amp'
              ? '&'
              : e === 'quot'
                ? '"'
                : String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
      i += m[0].length;
      continue;
    }
    if (ch === '>') return { ok: false, error: `Unescaped ">" at offset ${i}` };
    text += ch;
    i++;
  }
  if (stack.length > 0) return { ok: false, error: `Can't find end tag corresponding to start tag "${stack[stack.length - 1]}"` };
  return { ok: true, text };
}

/** The visible text of a message: parsed when it is HTML, as is otherwise. */
export function visibleText(text: string, parseMode: string | undefined): string {
  if (parseMode !== 'HTML') return text;
  const r = checkTelegramHtml(text);
  return r.ok ? r.text : text;
}
