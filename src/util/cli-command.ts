// How a user can type the `kubemu` command from where they are, so every hint the CLI prints runs as written.
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join, relative, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/cli/main.js of this install */
const CLI_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface CliCommandContext {
  /** $PATH as the user's shell has it */
  path: string;
  cwd: string;
  /** the `kubemu` entry point (dist/cli/main.js) */
  main: string;
}

const real = (file: string): string | undefined => {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
};

/** npm puts these on PATH only while it runs a script or `npx`: the user's own shell does not have them. */
const addedByNpm = (dir: string): boolean =>
  /[\\/]node_modules[\\/]\.bin$/.test(dir) || /[\\/]_npx[\\/]/.test(dir) || /node-gyp-bin$/.test(dir);

/**
 * The command prefix that starts this kubemu: `kubemu` when the user's PATH has it (a link on PATH to dist/cli/main.js),
 * `npx kubemu` inside the package (npm runs a project's own bin there), else `node /abs/dist/cli/main.js`.
 * `npx kubemu` anywhere else would fetch a package of that name from the registry instead.
 */
export function cliCommand(ctx: CliCommandContext = defaultContext()): string {
  const main = real(ctx.main) ?? ctx.main;
  for (const dir of ctx.path.split(delimiter)) {
    if (!dir || addedByNpm(dir)) continue;
    const candidate = join(dir, 'kubemu');
    if (existsSync(candidate) && real(candidate) === main) return 'kubemu';
  }
  // main is <root>/dist/cli/main.js
  const root = dirname(dirname(dirname(main)));
  const inside = relative(root, real(ctx.cwd) ?? ctx.cwd);
  if (!inside.startsWith('..') && !isAbsolute(inside) && existsSync(join(root, 'package.json')))
    return 'npx kubemu';
  return `node ${shellQuote(main)}`;
}

function defaultContext(): CliCommandContext {
  return { path: process.env['PATH'] ?? '', cwd: process.cwd(), main: CLI_MAIN };
}

let cached: string | undefined;
/** cliCommand() for this process, worked out once. */
export const kubemuCommand = (): string => (cached ??= cliCommand());

/** `word` as one shell word: as is when it is plain, else in single quotes. */
export const shellQuote = (word: string): string =>
  /^[\w./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
