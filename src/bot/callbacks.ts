/**
 * Inline buttons' callback_data is a short prefix naming the feature (`q:`, `s:`) followed by
 * its argument. Handlers match on patterns built from the same prefix constants that build the
 * buttons, so the two cannot drift apart.
 */
import { escapeRegExp } from '../util/text.js';

/**
 * The pattern for callback_data starting with `prefix`. With `argument` (a RegExp source), the
 * rest must match it entirely; without, any rest is accepted.
 */
export function callbackPattern(prefix: string, argument?: string): RegExp {
  return new RegExp(`^${escapeRegExp(prefix)}${argument === undefined ? '' : `(?:${argument})$`}`);
}
