// What a chaos backend can do to a running cluster, and the small helpers every backend shares.

/** One way of breaking (and mending) a cluster; each method returns what it did, one line per event. */
export interface ChaosBackend {
  /** SIGKILL every process of the node (its pods die with the kubelet) and keep them down */
  killNode(node: string): Promise<string[]>;
  /** freeze the node (alive but silent) for `ms`, then thaw it; `onPaused` is told once it is frozen */
  pauseNode(node: string, ms: number, onPaused?: (line: string) => void): Promise<string[]>;
  /** start a killed node again (or thaw a paused one) */
  restartNode(node: string): Promise<string[]>;
  /** SIGKILL one component, like a crash; its supervisor restarts it */
  kill(component: string): Promise<string[]>;
  /** freeze one component (SIGSTOP / docker pause) for `ms`, then thaw it: alive, holding its sockets, silent */
  pause(component: string, ms: number, onPaused?: (line: string) => void): Promise<string[]>;
  close(): void;
}

/** `10s`, `500ms`, `2m`, or a bare number of seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? n : unit === 'm' ? n * 60_000 : n * 1000);
}

export const formatMs = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it returns a value or `ms` pass (then undefined). */
export async function pollFor<T>(ms: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined || Date.now() > deadline) return v;
    await sleep(100);
  }
}

/** A chaos request that cannot be carried out (unknown node, component, cluster): reported without a stack. */
export class ChaosError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChaosError';
  }
}

/** Writes a `kubemu ...` command the user can run as shown (the right prefix, the cluster's flags). */
export type CommandHint = (args: string) => string;
export const plainHint: CommandHint = (args) => `kubemu ${args}`;
