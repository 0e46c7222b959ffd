// `npm run doctor -- --help` and `npm run repair -- --help`, as an operator types them: every option the tool
// accepts is explained, with examples and the exit codes, and the help itself changes nothing and exits 0.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScript } from './support/server-process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function npmRun(script: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '' } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

/** The options of a help text: `--name` at the start of an indented line, and the explanation under it. */
function explainedOptions(help: string): Map<string, string> {
  const options = new Map<string, string>();
  const lines = help.split('\n');
  const start = lines.indexOf('Options:');
  for (let index = start + 1; index < lines.length && lines[index] !== ''; index += 1) {
    const match = /^ {2}--([a-z-]+)/.exec(lines[index]!);
    if (!match) continue;
    const explanation: string[] = [];
    for (let next = index + 1; next < lines.length && /^ {6}\S/.test(lines[next]!); next += 1) explanation.push(lines[next]!.trim());
    options.set(match[1]!, explanation.join(' '));
  }
  return options;
}

const TOOLS = [
  { name: 'doctor', script: 'src/cli/doctor.ts', options: ['database-url', 'data-dir', 'json', 'structure-only', 'help'] },
  { name: 'repair', script: 'src/cli/repair.ts', options: ['database-url', 'data-dir', 'apply', 'json', 'map-status', 'help'] },
];

describe.each(TOOLS)('$name --help', ({ name, script, options }) => {
  it('explains every option, with examples and exit codes, through npm run', async () => {
    const { code, output } = await npmRun(name, ['--help']);
    expect(code).toBe(0);
    const explained = explainedOptions(output);
    expect([...explained.keys()].sort()).toEqual([...options].sort());
    for (const [option, explanation] of explained) {
      expect(explanation.length, `--${option} is explained`).toBeGreaterThan(20);
    }
    const examples = output.slice(output.indexOf('Examples:'));
    expect(examples.match(new RegExp(`^ {2}(\\S+=\\S+ )?npm run ${name} -- `, 'gm'))?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(output).toMatch(/Exit codes:\n {2}0 {2}\S.*\n(?: {5}\S.*\n)* {2}1 {2}\S.*\n(?: {5}\S.*\n)* {2}2 {2}\S/);
  });

  it('accepts every option the help names (an unknown one is refused with exit 2)', async () => {
    const { output } = await runScript(script, ['--help'], { DATABASE_URL: '' });
    // Every explained option parses: with --help last, the tool prints the help and does nothing else.
    const args = [...explainedOptions(output).keys()]
      .filter((option) => option !== 'help' && option !== 'database-url' && option !== 'data-dir')
      .flatMap((option) => (option === 'map-status' ? [`--${option}`, 'data_imports.status:validated=completed'] : [`--${option}`]));
    const withAll = await runScript(script, [...args, '--data-dir', '/nonexistent', '--help'], { DATABASE_URL: '' });
    expect(withAll.code).toBe(0);
    expect(withAll.output).toBe(output);
    const unknown = await runScript(script, ['--frobnicate'], { DATABASE_URL: '' });
    expect(unknown.code).toBe(2);
    expect(unknown.output).toMatch(/Unknown option '--frobnicate'/);
  });
});
