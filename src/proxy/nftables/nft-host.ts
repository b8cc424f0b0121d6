// Where the nftables proxier may run, and how it talks to the kernel: transactions through one long-running
// `nft -i` (nft-session.ts), `nft -f -` for the big ones (a full sync), and listings.
// It never programs the host's own firewall: it refuses to start in the root network namespace.
import { spawn, spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { silentLogger, type Logger } from '../../util/logger.js';
import type { ExistingObjects } from './generator.js';
import { NftCommandError } from './nft-errors.js';
import { NftSession, NftSessionError } from './nft-session.js';
import type { NftFamily } from './transaction.js';

export { NftCommandError };

/** the kernel's initial network namespace always has this inode (PROC_NET_INIT_INO, 0xEFFFFFF9) */
export const INIT_NETNS = 'net:[4026531833]';

/**
 * Why nftables mode cannot run here, or undefined when it can: `nft` must be on PATH, and this process must
 * be in a network namespace of its own (a node's, which kubemu creates), not the host's: neither the kernel's
 * initial namespace nor the one PID 1 is in (a container's, where PID 1 is the container's init).
 */
export function nftablesUnavailable(
  nft = 'nft',
  nsOf: (pid: 'self' | '1') => string | undefined = netnsOf,
): string | undefined {
  const version = spawnSync(nft, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (version.error || version.status !== 0)
    return (
      `the nftables proxy mode needs the nft command (${nft}: ${version.error?.message ?? version.stderr.trim()}); ` +
      'install nftables (apt-get install nftables) or run with --proxy-mode=userspace'
    );
  const self = nsOf('self');
  const host = nsOf('1');
  if (!self) return 'cannot read /proc/self/ns/net to tell which network namespace this is';
  if (self === INIT_NETNS || (host && self === host))
    return (
      `refusing to program nftables in the host's network namespace (${self}, the host's own): ` +
      "the nftables proxy mode runs only inside a node's network namespace that kubemu creates; " +
      'use --proxy-mode=userspace here'
    );
  return undefined;
}

function netnsOf(pid: 'self' | '1'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

export interface NftRunnerOptions {
  /** the argv that runs nft; default `['nft']` (tests: `['ip', 'netns', 'exec', NS, 'nft']`) */
  command?: string[];
  /** small transactions through one long-running `nft -i` (default); false: one `nft -f -` process each */
  session?: boolean;
  logger?: Logger;
}

/**
 * Transactions longer than this go to a one-shot `nft -f -`: nft -i reads a line through libedit, which gets
 * slow on lines of megabytes (a full sync of 1,000 Services, ~2 MB, took 6× as long as with -f).
 */
export const SESSION_MAX_SCRIPT = 64 * 1024;

/** after this many session failures in a row (not transactions nft refused) every transaction uses `nft -f -` */
const SESSION_FAILURES_TO_GIVE_UP = 3;

/** runs nft with `input` on stdin; resolves stdout */
function runNft(command: string[], args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const [nft, ...pre] = command;
    const child = spawn(nft, [...pre, ...args], {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else
        reject(
          new NftCommandError(`nft ${args.join(' ')} exited ${code}: ${err.trim().slice(0, 2000)}`, err),
        );
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

interface NftJsonList {
  nftables?: { chain?: { table: string; name: string }; set?: { table: string; name: string } }[];
}

/** what the proxier needs of nft */
export interface NftApplier {
  apply(script: string): Promise<void>;
  list(family: NftFamily, table: string): Promise<ExistingObjects>;
  /** stops what it keeps running (the nft session) */
  close?(): void;
}

export class NftRunner implements NftApplier {
  private readonly command: string[];
  private readonly log: Logger;
  private session: NftSession | undefined;
  private sessionFailures = 0;
  /** transactions sent through the session and through one-shot `nft -f -` runs, for tests and benches */
  readonly counts = { session: 0, oneShot: 0 };

  constructor(opts: NftRunnerOptions = {}) {
    this.command = opts.command ?? ['nft'];
    this.log = opts.logger ?? silentLogger();
    if (opts.session ?? true) this.session = new NftSession({ command: this.command });
  }

  /** the session's nft PID, when one is running */
  get sessionPid(): number | undefined {
    return this.session?.pid;
  }

  /** applies one transaction: all of it or, on an error, none */
  async apply(script: string): Promise<void> {
    if (!script) return;
    const session = this.session;
    if (session && script.length <= SESSION_MAX_SCRIPT) {
      try {
        await session.apply(script);
        this.sessionFailures = 0;
        this.counts.session++;
        return;
      } catch (err) {
        if (!(err instanceof NftSessionError)) throw err;
        // the session broke, not the transaction: nft commits a batch whole or not at all, so send it again
        this.sessionFailures++;
        if (this.sessionFailures >= SESSION_FAILURES_TO_GIVE_UP) {
          session.close();
          this.session = undefined;
          this.log.warn(
            { err: err.message, failures: this.sessionFailures },
            'the long-running nft -i keeps failing; every sync now runs its own nft -f - (slower)',
          );
        } else this.log.warn({ err: err.message }, 'nft -i session failed; restarting it');
      }
    }
    this.counts.oneShot++;
    await runNft(this.command, ['-f', '-'], script);
  }

  close(): void {
    this.session?.close();
  }

  /** the chains and sets the kernel holds in `table` (empty when the table does not exist) */
  async list(family: NftFamily, table: string): Promise<ExistingObjects> {
    const names = async (what: 'chains' | 'sets'): Promise<string[]> => {
      const out = await runNft(this.command, ['-j', 'list', what, family]).catch((err: unknown) => {
        if (err instanceof NftCommandError && /No such file or directory/.test(err.stderr)) return '{}';
        throw err;
      });
      const parsed = JSON.parse(out || '{}') as NftJsonList;
      return (parsed.nftables ?? [])
        .map((o) => (what === 'chains' ? o.chain : o.set))
        .filter((o): o is { table: string; name: string } => !!o && o.table === table)
        .map((o) => o.name);
    };
    return { chains: await names('chains'), sets: await names('sets') };
  }
}
