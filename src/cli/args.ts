/**
 * Command-line arguments: each command's options parsed with node:util's parseArgs, and a mistake
 * told in a line or two (what was wrong, the option probably meant, where that command's help is)
 * instead of the whole usage text.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { errorMessage, UserError } from '../util/errors.js';
import { likelyMeant } from '../util/text.js';

/** How a person asks for a command's help, e.g. `npm run index -- --help`. */
export function helpCommand(command: string): string {
  return command === 'start' ? 'npm start -- --help' : `npm run ${command} -- --help`;
}

/**
 * parseArgs for `command`; a bad argument becomes a UserError such as
 * `Unknown option --ful for index. Did you mean --full? (npm run index -- --help)`.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UserError(argumentProblem(command, err, Object.keys(config.options ?? {})));
  }
}

/** The one-line message for a parseArgs error of `command`, whose long options are `options`. */
export function argumentProblem(command: string, err: unknown, options: string[]): string {
  const message = errorMessage(err);
  const help = helpCommand(command);
  const unknown = /^Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (unknown) {
    const given = `${unknown[1]}${unknown[2]}`;
    const meant = likelyMeant(unknown[2]!, options);
    const known = options.filter((o) => o !== 'help').map((o) => `--${o}`);
    const hint = meant ? `Did you mean --${meant}?` : known.length > 0 ? `Its options: ${known.join(', ')}.` : 'It takes no options.';
    return `Unknown option ${given} for ${command}. ${hint} (${help})`;
  }
  const positional = /^Unexpected argument '([^']*)'/.exec(message);
  if (positional) return `Unexpected argument "${positional[1]}" for ${command}. (${help})`;
  return `${message.replace(/\.$/, '')} (${help})`;
}
