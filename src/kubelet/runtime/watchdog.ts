// One small process per kubelet that SIGKILLs every container process group still registered when the kubelet dies.
import { spawn, type ChildProcess } from 'node:child_process';

// Reads "+PGID"/"-PGID" lines from the kubelet; EOF on its stdin means the kubelet is gone, by any means.
const WATCHDOG_SCRIPT = `
pgids=""
while read -r line; do
  case "$line" in
    +*) pgids="$pgids \${line#+}" ;;
    -*) pg=\${line#-}; keep=""; for p in $pgids; do [ "$p" = "$pg" ] || keep="$keep $p"; done; pgids=$keep ;;
  esac
done
for p in $pgids; do kill -9 -$p 2>/dev/null; done
`;

/**
 * Belt and braces next to PR_SET_PDEATHSIG and PID namespaces: the watchdog lives in its own session, so it outlives
 * a SIGKILLed kubelet just long enough to kill what the kubelet left behind.
 */
export class Watchdog {
  private readonly child: ChildProcess;

  constructor() {
    this.child = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    this.child.unref();
    // The pipe must not keep the kubelet's event loop alive.
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    this.child.stdin?.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  watch(pgid: number): void {
    this.child.stdin?.write(`+${pgid}\n`);
  }

  unwatch(pgid: number): void {
    this.child.stdin?.write(`-${pgid}\n`);
  }

  /** Stops the watchdog without killing anything still registered (the kubelet shuts down on purpose). */
  close(): void {
    this.child.stdin?.end();
  }
}
