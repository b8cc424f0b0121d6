// One connection made ahead, per kubelet, for the next upgraded request (exec, attach, port-forward): an upgraded
// connection is consumed by its stream and cannot be kept alive, so without a spare every `kubectl exec` waits for
// a new TCP connection and TLS handshake to the kubelet. A spare is made when a stream to that kubelet ends (not
// while one is being set up, so it never competes with it), and closed unused after `idleMs`: a kubelet nobody
// streams from holds no connection of the apiserver's. A spare that closed or failed is never handed out.
import type { Duplex } from 'node:stream';

export const SPARE_IDLE_MS = 15_000;

interface Spare<S extends Duplex> {
  socket: Promise<S>;
  timer: NodeJS.Timeout;
  /** removes the listeners a waiting spare has */
  detach(): void;
}

const usable = (s: Duplex): boolean => !s.destroyed && s.readable && s.writable;

export class SpareConnections<S extends Duplex> {
  private readonly spares = new Map<string, Spare<S>>();
  private closed = false;

  constructor(private readonly idleMs = SPARE_IDLE_MS) {}

  /**
   * A connection to `key`: the spare when there is a usable one, else a new one from `connect`. When the
   * connection closes, a spare is made for the next caller.
   */
  async take(key: string, connect: () => Promise<S>): Promise<S> {
    const spare = this.spares.get(key);
    this.spares.delete(key);
    let socket: S | undefined;
    if (spare) {
      clearTimeout(spare.timer);
      spare.detach();
      socket = await spare.socket.then(
        (s) => (usable(s) ? s : (s.destroy(), undefined)),
        () => undefined,
      );
    }
    socket ??= await connect();
    socket.once('close', () => this.replenish(key, connect));
    return socket;
  }

  /** how many spares are held (made or being made) */
  get size(): number {
    return this.spares.size;
  }

  /** Closes every spare; no more are made. */
  close(): void {
    this.closed = true;
    for (const spare of this.spares.values()) this.drop(spare);
    this.spares.clear();
  }

  private replenish(key: string, connect: () => Promise<S>): void {
    if (this.closed || this.spares.has(key)) return;
    const socket = connect();
    let detached = false;
    let detach = (): void => {
      detached = true;
    };
    const spare: Spare<S> = {
      socket,
      timer: setTimeout(() => {
        if (this.spares.get(key) === spare) this.spares.delete(key);
        this.drop(spare);
      }, this.idleMs),
      detach: () => detach(),
    };
    spare.timer.unref();
    this.spares.set(key, spare);
    const forget = (): void => {
      if (this.spares.get(key) !== spare) return;
      this.spares.delete(key);
      clearTimeout(spare.timer);
    };
    socket.then((s) => {
      if (detached) return;
      // a spare the kubelet closes (restarted, shut down) is forgotten: it flows (nothing comes before a request)
      // so that its end is seen
      const ended = (): void => void s.destroy();
      const ignore = (): void => undefined;
      s.once('close', forget);
      s.once('end', ended);
      s.on('error', ignore);
      s.resume();
      detach = () => {
        s.off('close', forget);
        s.off('end', ended);
        s.off('error', ignore);
        s.pause();
      };
    }, forget);
  }

  private drop(spare: Spare<S>): void {
    clearTimeout(spare.timer);
    spare.socket.then(
      (s) => s.destroy(),
      () => undefined,
    );
  }
}
