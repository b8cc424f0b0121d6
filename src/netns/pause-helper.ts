// One long-lived process per kubelet that makes its pods' pauses (#19 Show 4: a burst of 100 pods). A pause made
// the plain way costs a chain of five programs (setpriv, unshare, sh, ip, sleep) and a fork of the kubelet, each
// exec some 10 ms of CPU on a loaded machine; here a small Perl loop (perl-base is in every Debian-like image,
// util-linux's unshare is not a library) forks a copy of itself per pod, which sets its parent-death signal, leaves
// for a network and UTS namespace of its own (unshare(2)), names itself (sethostname(2)), writes the pod's sysctls
// and runs the one program left, `ip -batch -`, then waits as the pause. The fork of a small process replaces the
// kubelet's fork and four execs.
//
// Protocol, one request at a time on the helper's stdin: `ID HOSTNAME N` then N lines of `ip -batch` commands;
// each pause answers on the helper's stdout with `ID ready PID` or `ID error WHY` (one write, so lines never mix).
// The helper dies with the kubelet (PR_SET_PDEATHSIG), and each pause with the helper, so a SIGKILLed kubelet
// leaves no pause behind; the helper reaps its pauses, so their CPU lands in its (and then the kubelet's) totals.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { NamespaceError } from './holder.js';

/** prctl, unshare, sethostname: the helper calls them by number (syscall.ph is not in perl-base) */
const SYSCALLS: Partial<Record<NodeJS.Architecture, [number, number, number]>> = {
  x64: [157, 272, 170],
  arm64: [167, 97, 161],
};

// The pause's sysctls as the shell pause writes them (pod-net.ts's PAUSE_SCRIPT): ports below 1024 for everyone,
// ping for every group (only group 0 in a rootless sandbox, where a range of unmapped groups is refused), 127/8
// routed beyond the pod.
const SCRIPT = String.raw`
use strict; use POSIX ();
my ($parent, $prctl, $unshare, $sethostname) = @ARGV;
sub deathsig { syscall($prctl, 1, 9, 0, 0, 0) == 0 or return "prctl: $!"; return '' }
my $why = deathsig(); die "$why\n" if $why;
exit 0 if getppid() != $parent;
$| = 1;
my $helper = $$;
$SIG{CHLD} = sub { 1 while waitpid(-1, POSIX::WNOHANG()) > 0 };
sub put { my ($file, $value) = @_; open(my $f, '>', $file) or return "$file: $!";
  print $f $value or return "$file: $!"; close($f) or return "$file: $!"; return '' }
sub pause {
  my ($hostname, $batch) = @_;
  POSIX::setsid();
  my $why = deathsig(); return $why if $why;
  return 'the pause helper is gone' if getppid() != $helper;
  syscall($unshare, 0x40000000 | 0x04000000) == 0 or return "unshare: $!";
  syscall($sethostname, $hostname, length $hostname) == 0 or return "sethostname: $!";
  for my $f ('all', 'default') { $why = put("/proc/sys/net/ipv4/conf/$f/route_localnet", "1\n"); return $why if $why }
  $why = put('/proc/sys/net/ipv4/ip_unprivileged_port_start', "0\n"); return $why if $why;
  put('/proc/sys/net/ipv4/ping_group_range', "0 2147483647\n") eq '' or
    ($why = put('/proc/sys/net/ipv4/ping_group_range', "0 0\n")) eq '' or return $why;
  pipe(my $in, my $feed) or return "pipe: $!";
  pipe(my $out, my $err) or return "pipe: $!";
  my $ip = fork; return "fork: $!" unless defined $ip;
  if (!$ip) { close $feed; close $out; open(STDIN, '<&', $in); open(STDOUT, '>&', $err); open(STDERR, '>&', $err);
    exec('ip', '-batch', '-'); print STDERR "ip: $!\n"; POSIX::_exit(127) }
  close $in; close $err; print $feed $batch; close $feed;
  my $said = do { local $/; <$out> }; close $out;
  waitpid($ip, 0);
  return 'ip -batch: ' . ($said || "exit status " . ($? >> 8)) if $?;
  return '';
}
while (defined(my $head = <STDIN>)) {
  chomp $head;
  my ($id, $hostname, $n) = split / /, $head;
  my $batch = '';
  for (1 .. $n) { my $line = <STDIN>; last unless defined $line; $batch .= $line }
  my $pid = fork;
  if (!defined $pid) { print "$id error fork: $!\n"; next }
  next if $pid;
  $SIG{CHLD} = 'DEFAULT';
  my $failed = pause($hostname, $batch);
  if ($failed) { $failed =~ s/\s+/ /g; print "$id error $failed\n"; POSIX::_exit(1) }
  print "$id ready $$\n";
  open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
  POSIX::pause() while 1;
}
`;

interface Pending {
  resolve(pid: number): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class PauseHelper {
  private readonly pending = new Map<string, Pending>();
  private exited: string | undefined;
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.answer(line));
    child.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-2000)));
    child.stdin!.on('error', () => undefined);
    child.on('error', (err) => this.fail(err.message));
    child.on('exit', (code, signal) =>
      this.fail(this.stderr.trim() || (signal ? `killed by ${signal}` : `exited with status ${code}`)),
    );
  }

  /** The helper for this machine's architecture, or undefined where its system calls are not known here. */
  static start(): PauseHelper | undefined {
    const numbers = SYSCALLS[process.arch];
    if (!numbers) return undefined;
    const child = spawn('perl', ['-e', SCRIPT, String(process.pid), ...numbers.map(String)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new PauseHelper(child);
  }

  /** Why the helper is gone, when it is (it is then of no more use). */
  get gone(): string | undefined {
    return this.exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * A pause in a network and UTS namespace of its own named `hostname`, `batch` run there by `ip -batch`; resolves
   * with its PID (its own process group) once it is set up.
   */
  create(id: string, hostname: string, batch: string[], timeoutMs = 20_000): Promise<number> {
    if (/\s/.test(id) || /\s/.test(hostname) || !id || !hostname)
      return Promise.reject(new TypeError(`pause id and hostname without spaces: ${id} ${hostname}`));
    if (batch.some((l) => l.includes('\n'))) return Promise.reject(new TypeError('one ip command a line'));
    if (this.exited !== undefined)
      return Promise.reject(new NamespaceError(`the pause helper is gone: ${this.exited}`));
    if (this.pending.has(id)) return Promise.reject(new NamespaceError(`a pause for ${id} is being made`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NamespaceError(`the pause of ${hostname} was not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin!.write([`${id} ${hostname} ${batch.length}`, ...batch].join('\n') + '\n');
    });
  }

  private answer(line: string): void {
    const m = /^(\S+) (ready|error) ?(.*)$/.exec(line);
    if (!m) return;
    const waiting = this.pending.get(m[1]);
    if (!waiting) {
      // too late (timed out): the pause must not stay behind
      if (m[2] === 'ready') killQuietly(Number(m[3]));
      return;
    }
    this.pending.delete(m[1]);
    clearTimeout(waiting.timer);
    if (m[2] === 'ready') waiting.resolve(Number(m[3]));
    else waiting.reject(new NamespaceError(m[3]));
  }

  private fail(why: string): void {
    this.exited ??= why;
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new NamespaceError(`the pause helper is gone: ${why}`));
      this.pending.delete(id);
    }
  }

  /** Ends the helper, and with it every pause it made (their parent-death signal). */
  close(): void {
    this.child.stdin!.end();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

function killQuietly(pid: number): void {
  try {
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}
