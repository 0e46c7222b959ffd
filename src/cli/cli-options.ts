// The options of doctor and repair, described once: node:util's parseArgs reads the same table the
// `--help` text is printed from, so an option cannot be added without its explanation.
import type { ParseArgsConfig } from 'node:util';

export interface CliOption {
  type: 'string' | 'boolean';
  /** What the value looks like, for string options (`URL`, `DIR`, …). */
  value?: string;
  multiple?: boolean;
  /** What the option does, one or more sentences; wrapped when printed. */
  description: string;
}

export type CliOptions = Record<string, CliOption>;

export interface CliHelp {
  /** `npm run doctor -- …` */
  usage: string;
  /** What the tool does, in a paragraph. */
  summary: string;
  options: CliOptions;
  /** Command lines, each with what it does. */
  examples: { command: string; does: string }[];
  /** Exit codes and what each means. */
  exitCodes: { code: number; means: string }[];
}

/** The options both tools take: which database to open. */
export const DATABASE_OPTIONS = {
  'database-url': {
    type: 'string',
    value: 'URL',
    description:
      'The PostgreSQL database to open (postgres://user:password@host:5432/name). Without it and without --data-dir, ' +
      'DATABASE_URL is used. The password never appears in the output.',
  },
  'data-dir': {
    type: 'string',
    value: 'DIR',
    description:
      'An embedded PGlite database: the directory it keeps its files in (FLOWGRAPH_DATA_DIR of the server, ' +
      './.flowgraph/pglite by default). It must already hold a database; none is created.',
  },
} as const satisfies CliOptions;

export const HELP_OPTION = {
  help: { type: 'boolean', description: 'Print this help and exit (exit code 0).' },
} as const satisfies CliOptions;

/** parseArgs' description of one option, typed so that its parsed value is typed too. */
type ParseOption<O extends CliOption> = O['type'] extends 'boolean'
  ? { type: 'boolean'; default: boolean }
  : O['multiple'] extends true
    ? { type: 'string'; multiple: true; default: string[] }
    : { type: 'string' };

export function parseArgsOptions<T extends CliOptions>(options: T): { [K in keyof T]: ParseOption<T[K]> } {
  const config: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
    Object.entries(options).map(([name, option]) => [
      name,
      option.type === 'boolean'
        ? { type: 'boolean' as const, default: false }
        : option.multiple
          ? { type: 'string' as const, multiple: true, default: [] }
          : { type: 'string' as const },
    ]),
  );
  return config as { [K in keyof T]: ParseOption<T[K]> };
}

function wrap(text: string, indent: number, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((text) => `${' '.repeat(indent)}${text}`);
}

export function helpText(help: CliHelp): string {
  const out = [help.usage, '', ...wrap(help.summary, 0), '', 'Options:'];
  for (const [name, option] of Object.entries(help.options)) {
    const value = option.value ? ` ${option.value}` : '';
    out.push(`  --${name}${value}${option.multiple ? ' (repeatable)' : ''}`, ...wrap(option.description, 6));
  }
  out.push('', 'Examples:');
  for (const example of help.examples) out.push(`  ${example.command}`, ...wrap(example.does, 6));
  out.push('', 'Exit codes:');
  for (const exit of help.exitCodes) {
    const [first = '', ...rest] = wrap(exit.means, 5);
    out.push(`  ${exit.code}  ${first.trimStart()}`, ...rest);
  }
  return out.join('\n');
}
