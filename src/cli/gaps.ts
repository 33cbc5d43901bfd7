/** `npm run gaps -- [--days 7] [--json | --csv]`: the /gaps topics in the terminal, for an editors' meeting. */
import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import type { Config } from '../config/index.js';
import { gapsCsv, gapsJson, gapsText } from '../desk/report.js';
import { UserError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** Prints the report; returns the exit code. */
export async function runGaps(config: Config, logger: Logger, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      days: { type: 'string', default: '7' },
      json: { type: 'boolean', default: false },
      csv: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 365) throw new UserError('--days takes a whole number of days from 1 to 365.');
  if (values.json && values.csv) throw new UserError('Choose one of --json and --csv.');
  if (config.desk.questionLogDays === 0) throw new UserError('The question log is off (QUESTION_LOG_DAYS=0): there is nothing to group.');
  // The app gives the same storage the bot uses, and the embedding model when it loads.
  const app = await createApp(config, logger);
  try {
    const report = await app.desk.gaps(days, app.embedder);
    process.stdout.write(`${values.json ? gapsJson(report) : values.csv ? gapsCsv(report) : gapsText(report)}\n`);
    return 0;
  } finally {
    app.close();
  }
}
