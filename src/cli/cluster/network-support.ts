// Can this machine run the netns network (`kubemu up`'s default)? The programs it execs (unshare, nsenter, ip, nft)
// and one real try at the namespaces a sandbox needs (a user namespace too when not root). When it cannot, `up`
// falls back to the loopback network and says why and what to install (docs/design.md, "Network model").
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { findProgram } from '../../util/find-program.js';

/** The programs the netns network runs, with the Debian/Ubuntu and Fedora packages that have them. */
export const NETNS_PROGRAMS: readonly { program: string; packages: string }[] = [
  { program: 'unshare', packages: 'util-linux' },
  { program: 'nsenter', packages: 'util-linux' },
  { program: 'ip', packages: 'iproute2 (Fedora: iproute)' },
  { program: 'nft', packages: 'nftables' },
];

export interface NetnsSupport {
  ok: boolean;
  /** why not, and what to do about it (empty when ok) */
  reason: string;
}

export interface SupportProbe {
  path?: string;
  root?: boolean;
  /** runs argv: whether it exited 0, its stderr, whether it ran out of time (default: spawnSync, 30 s) */
  run?: (argv: readonly string[]) => { ok: boolean; stderr: string; timedOut?: boolean };
  /** reads a /proc/sys file; undefined when absent */
  sysctl?: (name: string) => string | undefined;
}

const runSync = (argv: readonly string[]): { ok: boolean; stderr: string; timedOut: boolean } => {
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  const timedOut = r.error?.message.includes('ETIMEDOUT') === true;
  return { ok: r.status === 0, stderr: (r.stderr?.toString() || r.error?.message || '').trim(), timedOut };
};

const readSysctl = (name: string): string | undefined => {
  try {
    return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** The sysctls that keep an unprivileged user from making user namespaces, as set here. */
function userNamespaceBlockers(sysctl: (name: string) => string | undefined): string[] {
  const out: string[] = [];
  if (sysctl('kernel.unprivileged_userns_clone') === '0')
    out.push('sudo sysctl -w kernel.unprivileged_userns_clone=1');
  if (sysctl('user.max_user_namespaces') === '0') out.push('sudo sysctl -w user.max_user_namespaces=15000');
  if (sysctl('kernel.apparmor_restrict_unprivileged_userns') === '1')
    out.push('sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0');
  return out;
}

/** Whether `kubemu up` can make the cluster's namespaces here; a few ms (one unshare). */
export function netnsSupport(probe: SupportProbe = {}): NetnsSupport {
  const path = probe.path ?? process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin';
  const root = probe.root ?? process.getuid?.() === 0;
  const missing = NETNS_PROGRAMS.filter(({ program }) => {
    try {
      findProgram(program, path);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((m) => m.packages))];
    return {
      ok: false,
      reason:
        `${missing.map((m) => m.program).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed ` +
        `(not in $PATH); install ${packages.join(' and ')} (e.g. sudo apt-get install ${packages.map((p) => p.split(' ')[0]).join(' ')})`,
    };
  }
  const tried = (probe.run ?? runSync)([
    findProgram('unshare', path),
    ...(root ? [] : ['--user', '--map-root-user']),
    '--net',
    '--mount',
    '--uts',
    '--',
    'true',
  ]);
  // a machine too loaded to answer in time is no reason to fall back: making the sandbox says what is wrong, if anything
  if (tried.ok || tried.timedOut) return { ok: true, reason: '' };
  const why = tried.stderr.split('\n')[0] || 'unshare failed';
  if (!root) {
    const fixes = userNamespaceBlockers(probe.sysctl ?? readSysctl);
    return {
      ok: false,
      reason:
        `this user may not create user namespaces (${why}); ` +
        (fixes.length ? `allow them with: ${fixes.join(' && ')}` : 'allow unprivileged user namespaces') +
        ', or run kubemu as root',
    };
  }
  return {
    ok: false,
    reason:
      `network namespaces cannot be created here (${why}); in a container, give it CAP_SYS_ADMIN and CAP_NET_ADMIN ` +
      '(docker run --cap-add SYS_ADMIN --cap-add NET_ADMIN, or --privileged)',
  };
}

/** What `kubemu up` runs: the mode, and why it is loopback when netns was the default but could not be. */
export interface NetworkChoice {
  mode: 'loopback' | 'netns';
  /** loopback because this machine cannot run netns: why and what to install (loud in up, status and events) */
  fallback?: string;
  /** a line for `up`'s output about the choice, when it is not the plain default */
  note?: string;
}

/**
 * What `kubemu up` runs when neither --network nor $KUBEMU_NETWORK says: loopback still. #19 makes netns the
 * default once the whole e2e suite passes on it (`KUBEMU_TEST_NETWORK=netns npm test`); until then `auto` is what
 * the default will be — netns where the machine can run it, else loopback, said loudly — and flipping this
 * constant is the switch.
 */
export const NETNS_BY_DEFAULT = false;

/**
 * The network of this run: `requested` (--network or $KUBEMU_NETWORK) when given, else the one the cluster was made
 * with (its Services' ClusterIPs come from that mode's range: 127.96.x in loopback, 10.96.x in netns), else the
 * default. `auto`: netns where the machine can run it, else loopback with the reason. `previous` is the cluster's
 * recorded mode; a state dir with a database and no record was made before the record existed, so with loopback.
 */
export function chooseNetwork(
  requested: 'loopback' | 'netns' | 'auto' | undefined,
  previous: 'loopback' | 'netns' | undefined,
  support: () => NetnsSupport,
  netnsByDefault = NETNS_BY_DEFAULT,
): NetworkChoice | { error: string } {
  if (requested === 'loopback') return { mode: 'loopback' };
  if (requested === 'netns') {
    const s = support();
    if (s.ok) return { mode: 'netns' };
    return {
      error:
        `kubemu up: --network=netns cannot run on this machine: ${s.reason}.\n` +
        'Start with --network=loopback (every pod on the host loopback) until then.',
    };
  }
  if (requested === undefined && previous === undefined && !netnsByDefault) return { mode: 'loopback' };
  if (previous === 'loopback')
    return {
      mode: 'loopback',
      ...(requested === 'auto' || netnsByDefault
        ? {
            note:
              'network: loopback, as this cluster was made (its Services have 127.96.x ClusterIPs); for the netns ' +
              'network make a new one (another --name, or kubemu down --purge first)',
          }
        : {}),
    };
  const s = support();
  if (s.ok) return { mode: 'netns' };
  return { mode: 'loopback', fallback: s.reason };
}

/** The fallback as one line for people: what they lose and what to install. */
export const fallbackMessage = (reason: string): string =>
  `the loopback network instead of netns: ${reason}. Pods share the host's network (a port such ` +
  'as :8080 binds once per machine), ClusterIPs are 127.96.x, and one cluster runs at a time';
