// Host publishing: binds host addresses in the host's network namespace and hands each listening socket to a
// forwarder inside the cluster's sandbox (Node's IPC passes the descriptor across namespaces); the forwarder
// accepts and pipes to the in-cluster address, so the host process is never in the data path.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { NamespaceError } from './holder.js';
import { pipeTo, type Endpoint } from './pipe.js';

export type { Endpoint };

/** TCP: a listening socket is passed in; UDP: a bound datagram socket, relayed per client (udp-relay.ts). */
export type Protocol = 'TCP' | 'UDP';

export type PublisherMessage =
  | { type: 'publish'; key: string; target: Endpoint; protocol?: Protocol }
  | { type: 'import'; key: string; listen: Endpoint }
  | { type: 'unpublish'; key: string };

export type ForwarderReply =
  | { type: 'ready' }
  | { type: 'published'; key: string }
  | { type: 'unpublished'; key: string }
  | { type: 'imported'; key: string }
  | { type: 'error'; key: string; message: string };

/** dist/cmd/netns-forwarder.js, next to this module's own dist/netns/. */
export const FORWARDER_SCRIPT = fileURLToPath(new URL('../cmd/netns-forwarder.js', import.meta.url));

export interface PublisherOptions {
  /** the argv prefix that enters the sandbox (Sandbox.prefix()) */
  sandboxPrefix: string[];
  forwarderScript?: string;
  timeoutMs?: number;
}

const keyOf = (e: Endpoint, protocol: Protocol = 'TCP'): string =>
  `${e.host}:${e.port}${protocol === 'UDP' ? '/UDP' : ''}`;

export class Publisher {
  private readonly waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  private readonly published = new Map<string, Endpoint>();
  private readonly imports = new Map<string, { target: Endpoint; server?: net.Server }>();
  private closed = false;

  private constructor(
    private readonly forwarder: ChildProcess,
    private readonly timeoutMs: number,
  ) {
    forwarder.on('message', (reply: ForwarderReply, handle: unknown) => {
      if (reply.type === 'ready') return;
      if (reply.type === 'imported') {
        const entry = this.imports.get(reply.key);
        if (entry && handle instanceof net.Server) {
          entry.server = handle;
          handle.on('connection', (client) => pipeTo(client, entry.target));
        }
      }
      const waiter = this.waiting.get(reply.key);
      this.waiting.delete(reply.key);
      if (reply.type === 'error')
        waiter?.reject(new NamespaceError(`publishing ${reply.key}: ${reply.message}`));
      else waiter?.resolve();
    });
    forwarder.on('exit', () => {
      for (const waiter of this.waiting.values())
        waiter.reject(new NamespaceError('the forwarder has exited'));
      this.waiting.clear();
    });
  }

  /** Starts the forwarder in the sandbox and resolves once it is ready. */
  static start(options: PublisherOptions): Promise<Publisher> {
    const argv = [...options.sandboxPrefix, process.execPath, options.forwarderScript ?? FORWARDER_SCRIPT];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    const timeoutMs = options.timeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new NamespaceError(`the forwarder in the sandbox was not ready after ${timeoutMs} ms: ${stderr}`),
        );
      }, timeoutMs);
      child.once('message', () => {
        clearTimeout(timer);
        resolve(new Publisher(child, timeoutMs));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new NamespaceError(`the forwarder in the sandbox exited (${code}): ${stderr.trim()}`));
      });
    });
  }

  /**
   * Listens on `listen` (host side; port 0 picks one) and forwards what arrives to `target` in the sandbox; resolves
   * with the address bound. A host address we may not bind (a port below 1024 when not root) rejects, with why.
   */
  async publish(listen: Endpoint, target: Endpoint, protocol: Protocol = 'TCP'): Promise<Endpoint> {
    if (this.closed) throw new NamespaceError('the publisher is closed');
    if (protocol === 'UDP') return this.publishUdp(listen, target);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new NamespaceError(
            `cannot listen on ${keyOf(listen)} on this machine: ${err.code === 'EACCES' ? 'ports below 1024 need root (or a lower net.ipv4.ip_unprivileged_port_start)' : err.message}`,
            { cause: err },
          ),
        ),
      );
      server.listen({ host: listen.host, port: listen.port }, resolve);
    });
    const address = server.address() as net.AddressInfo;
    const bound = { host: listen.host, port: address.port };
    const key = keyOf(bound);
    try {
      await this.request({ type: 'publish', key, target }, server);
      this.published.set(key, target);
    } finally {
      // the forwarder holds its own copy of the socket now (or, on failure, nobody should)
      server.close();
    }
    return bound;
  }

  /** publish() for UDP: binds a datagram socket here and hands it to the forwarder, which relays per client. */
  private async publishUdp(listen: Endpoint, target: Endpoint): Promise<Endpoint> {
    const socket: UdpSocket = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new NamespaceError(
            `cannot listen on ${keyOf(listen, 'UDP')} on this machine: ${err.code === 'EACCES' ? 'ports below 1024 need root (or a lower net.ipv4.ip_unprivileged_port_start)' : err.message}`,
            { cause: err },
          ),
        ),
      );
      socket.bind({ address: listen.host, port: listen.port, exclusive: true }, resolve);
    });
    const bound = { host: listen.host, port: socket.address().port };
    const key = keyOf(bound, 'UDP');
    try {
      await this.request({ type: 'publish', key, target, protocol: 'UDP' }, socket);
      this.published.set(key, target);
    } finally {
      // the forwarder holds its own copy now; this one must not read the datagrams meant for it
      socket.close();
    }
    return bound;
  }

  /**
   * The other way round: listens on `inside` in the sandbox and pipes what arrives to `hostTarget` on this side
   * (a host-side apiserver or registry, for components in the sandbox). Resolves once it listens.
   */
  async importFromHost(inside: Endpoint, hostTarget: Endpoint): Promise<void> {
    if (this.closed) throw new NamespaceError('the publisher is closed');
    const key = `import ${keyOf(inside)}`;
    this.imports.set(key, { target: hostTarget });
    try {
      await this.request({ type: 'import', key, listen: inside });
    } catch (err) {
      this.imports.delete(key);
      throw err;
    }
  }

  /** Stops accepting on `listen`; connections already made keep running. */
  async unpublish(listen: Endpoint, protocol: Protocol = 'TCP'): Promise<void> {
    const key = keyOf(listen, protocol);
    if (!this.published.delete(key)) return;
    await this.request({ type: 'unpublish', key });
  }

  /** What is published: host address → in-cluster address. */
  list(): Map<string, Endpoint> {
    return new Map(this.published);
  }

  /** Stops the forwarder (and with it every published address). */
  close(): Promise<void> {
    this.closed = true;
    for (const entry of this.imports.values()) entry.server?.close();
    this.imports.clear();
    if (this.forwarder.exitCode !== null || this.forwarder.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.forwarder.once('exit', () => resolve());
      this.forwarder.disconnect();
      setTimeout(() => this.forwarder.kill('SIGKILL'), 2_000).unref();
    });
  }

  private request(message: PublisherMessage, handle?: net.Server | UdpSocket): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(message.key);
        reject(new NamespaceError(`the forwarder did not answer ${message.type} ${message.key}`));
      }, this.timeoutMs);
      this.waiting.set(message.key, {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.forwarder.send(message, handle, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.waiting.delete(message.key);
        reject(new NamespaceError(`sending ${message.key} to the forwarder: ${err.message}`, { cause: err }));
      });
    });
  }
}
