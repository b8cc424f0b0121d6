#!/usr/bin/env node
// The `kubemu` command: cluster lifecycle and every component process.
import { apiserverMain } from '../cmd/apiserver.js';

const USAGE = `Usage: kubemu <command> [options]

Commands:
  apiserver     run the API server (--state-dir DIR [--port 6443])

Run 'kubemu <command> --help' for a command's options.`;

function main(argv: string[]): void {
  const [command, ...rest] = argv;
  switch (command) {
    case 'apiserver':
      apiserverMain(rest);
      return;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return;
    default:
      console.error(`kubemu: unknown command "${command}"\n\n${USAGE}`);
      process.exit(2);
  }
}

main(process.argv.slice(2));
