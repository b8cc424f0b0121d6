// A command on a pseudo-terminal, for containers with `tty: true` and `kubectl exec -t`: util-linux's `script`
// (on every Linux with the kubelet's other tools; a native pty module would need a compiler at install time) makes
// the terminal and runs the command on it; its exit status is the command's (`--return`).
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * `argv` run on a new pseudo-terminal. It is wrapped before it enters the container, so the terminal's session and
 * process groups are made inside the container's PID namespace: a shell started outside it sees its process group
 * as 0 there, and job control fails on exit.
 */
export function onTerminal(argv: string[]): { argv: string[]; env: Record<string, string> } {
  const command = `exec ${argv.map(shellQuote).join(' ')}`;
  return {
    argv: ['script', '--quiet', '--return', '--echo', 'always', '--command', command, '/dev/null'],
    // script runs the command with $SHELL; runtimes give a TTY TERM=xterm
    env: { TERM: 'xterm', SHELL: '/bin/sh' },
  };
}
