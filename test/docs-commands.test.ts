// Every `kubemu` command the docs tell users to type runs as written from a fresh clone: no `kubemu` on PATH,
// only `npm install` done (dist/ built by its prepare script), commands typed in the clone's directory.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/apiserver.js';

const DOCS = [
  'README.md',
  'docs/design.md',
  'images/README.md',
  'docker/README.md',
  'examples/README.md',
  ...readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'examples', d.name, 'README.md')))
    .map((d) => `examples/${d.name}/README.md`),
];

const PATH_WITHOUT_KUBEMU = (process.env['PATH'] ?? '')
  .split(delimiter)
  .filter((dir) => dir && !existsSync(join(dir, 'kubemu')))
  .join(delimiter);

interface Invocation {
  file: string;
  /** what the user types to start kubemu: `npx kubemu` or `kubemu` */
  prefix: string;
  subcommand: string;
  line: string;
}

/** `kubemu` invocations at a command position in a shell line (start, or after ; && || | $( ). */
function invocations(file: string, line: string): Invocation[] {
  const out: Invocation[] = [];
  const code = line.replace(/\s#.*$/, '');
  for (const m of code.matchAll(
    /(?:^|;|&&|\|\||\||\$\()\s*((?:npx\s+)?kubemu)\s+([a-z][\w-]*(?:\\\|[\w-]+)*)/g,
  ))
    for (const subcommand of m[2].split('\\|'))
      out.push({ file, prefix: m[1], subcommand, line: line.trim() });
  return out;
}

/** Lines of ```sh / ```bash / ``` blocks, and the first cell of README's command table (the commands to type). */
function typedCommands(file: string): Invocation[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: Invocation[] = [];
  for (const block of text.matchAll(/^```(?:sh|bash|shell|console)?\n([\s\S]*?)^```/gm))
    for (const line of block[1].split('\n')) found.push(...invocations(file, line.replace(/^\$ /, '')));
  const table = /^### Commands\n[\s\S]*?(?=\n#)/m.exec(text)?.[0] ?? '';
  for (const row of table.matchAll(/^\| `([^`]+)`/gm)) found.push(...invocations(file, row[1]));
  return found;
}

function sh(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', line],
      { cwd: ROOT, env: { ...process.env, PATH: PATH_WITHOUT_KUBEMU }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('commands in the docs, from a fresh clone', () => {
  const all = DOCS.flatMap(typedCommands);

  it('finds the commands the docs tell users to type (README quick start, command table, docker, examples)', () => {
    const where = new Set(all.map((i) => `${i.file} ${i.subcommand}`));
    for (const expected of [
      'README.md up',
      'README.md down',
      'README.md status',
      'README.md dashboard',
      'README.md chaos',
      'README.md image',
      'README.md apiserver',
      'README.md ingress',
      'docker/README.md chaos',
    ])
      expect(where).toContain(expected);
  });

  it('has no `kubemu` on PATH, as after git clone && npm install', async () => {
    expect((await sh('command -v kubemu')).code).not.toBe(0);
  });

  it("has node_modules/.bin/kubemu from npm install's prepare, so npx runs the clone's build as is", () => {
    const link = join(ROOT, 'node_modules/.bin/kubemu');
    expect(realpathSync(link)).toBe(join(ROOT, 'dist/cli/main.js'));
    accessSync(link, constants.X_OK);
  });

  it('every prefix runs kubemu as written, and every subcommand is one kubemu has', async () => {
    const failures: string[] = [];
    // npx takes seconds under load: each prefix once through the shell, the subcommands through node
    for (const prefix of new Set(all.map((i) => i.prefix))) {
      const r = await sh(`${prefix} --help`);
      if (r.code !== 0 || !r.stdout.startsWith('Usage: kubemu <command>'))
        failures.push(
          `"${prefix}" does not run kubemu: exit ${r.code}: ${(r.stderr || r.stdout).slice(0, 200)}`,
        );
    }
    for (const subcommand of new Set(all.map((i) => i.subcommand))) {
      const r = await sh(`node dist/cli/main.js ${subcommand} --help`);
      if (r.code !== 0 || !r.stdout.startsWith(`Usage: kubemu ${subcommand}`)) {
        const lines = all.filter((i) => i.subcommand === subcommand).map((i) => `${i.file}: ${i.line}`);
        failures.push(`kubemu has no "${subcommand}" (${lines.join('; ')}): exit ${r.code}`);
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
