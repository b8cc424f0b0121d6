// The kubelet's streaming endpoints, upgraded connections on its HTTPS port (upstream's /exec, /attach and
// /portForward, which the apiserver proxies to): the caller is authenticated by its client certificate as for every
// other kubelet path, then the connection speaks what the client asked for — WebSocket channels
// (v5.channel.k8s.io … for exec, `SPDY/3.1+portforward.k8s.io` for port-forward tunnelled in WebSocket, kubectl
// ≥ 1.30/1.31) or SPDY/3.1 (kubectl ≤ 1.29 and the fallback).
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../util/logger.js';
import type { ContainerRecord, PodWorker } from '../pod-worker.js';
import type { KubeletAuth } from '../server-auth.js';
import type { CommandStreams } from './command-streams.js';
import { runCommand } from './exec-runner.js';
import { runAttach } from './attach-runner.js';
import { servePortForward, PORT_FORWARD_PROTOCOL } from './portforward.js';
import { SpdySession } from './spdy/session.js';
import { spdyCommandStreams, SPDY_COMMAND_PROTOCOLS } from './spdy-command.js';
import type { CommandLine } from './tty.js';
import { CHANNEL_PROTOCOLS, websocketCommandStreams, type ChannelOptions } from './ws-channels.js';
import { negotiateChannelProtocol, unsupportedProtocolMessage } from './ws-codec.js';
import { parseKubeletForwardPorts } from '../../api/query-params.js';
import { PORT_FORWARD_CHANNEL_PROTOCOLS, serveWebSocketPortForward } from './ws-portforward.js';

/** the WebSocket subprotocol of port-forward's SPDY tunnel (KEP-4006) */
export const PORT_FORWARD_TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

export interface StreamingDeps {
  /** who may call: the kubelet's authentication and authorization, as for its other paths */
  auth: KubeletAuth;
  findPod(namespace: string, name: string): PodWorker | undefined;
  /** the command line that runs argv in a running container (the runtime's one way in) */
  execLine(rec: ContainerRecord, argv: string[], env: Record<string, string>): CommandLine;
  log: Logger;
}

class UpgradeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
};

/** An HTTP answer on a connection that was not upgraded, as Go's http.Error writes one. */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

const truthy = (v: string | null): boolean => v === '1' || v === 'true';

/** upstream's remotecommand NewOptions: the kubelet's input/output/error/tty flags (the apiserver sets them) */
function channelOptions(q: URLSearchParams): ChannelOptions {
  const tty = truthy(q.get('tty'));
  const opts = {
    stdin: truthy(q.get('input')),
    stdout: truthy(q.get('output')),
    // a TTY merges stderr into stdout
    stderr: truthy(q.get('error')) && !tty,
    tty,
  };
  if (!opts.stdin && !opts.stdout && !opts.stderr)
    throw new UpgradeError(400, 'you must specify at least 1 of stdin, stdout, stderr');
  return opts;
}

/** The running container `name` of the pod, as upstream's findContainer looks among running containers. */
function runningContainer(worker: PodWorker, name: string): ContainerRecord {
  const rec = worker.records().find((r) => r.spec.name === name);
  if (!rec || !rec.process?.running) throw new UpgradeError(500, `container not found ("${name}")`);
  return rec;
}

function offeredProtocols(req: IncomingMessage, header: string): string[] {
  const raw = req.headers[header];
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return list.flatMap((v) => v.split(',').map((s) => s.trim())).filter((s) => s !== '');
}

/** upgrade to SPDY/3.1 with the first protocol the client offers that we serve (upstream's httpstream.Handshake) */
function upgradeSpdy(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  served: string[],
): { session: SpdySession; protocol: string } {
  const offered = offeredProtocols(req, 'x-stream-protocol-version');
  const protocol = offered.length === 0 ? served[served.length - 1] : offered.find((p) => served.includes(p));
  if (!protocol)
    throw new UpgradeError(
      403,
      `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${served.join(' ')}]`,
    );
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Connection: Upgrade\r\n' +
      'Upgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  const session = new SpdySession(socket);
  if (head.length > 0) socket.unshift(head);
  return { session, protocol };
}

export function createStreamingHandler(
  deps: StreamingDeps,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  // the subprotocol of each request, negotiated in route() before the upgrade
  const negotiated = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (_protocols, req) => negotiated.get(req) || false,
  });
  const log = deps.log;

  /** Accepts the upgrade with the client's preferred protocol among `served`, or upstream's 403 refusal. */
  const acceptWebSocket = (
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    served: readonly string[],
  ): Promise<WebSocket> => {
    const offered = offeredProtocols(req, 'sec-websocket-protocol');
    const protocol = negotiateChannelProtocol(offered, served);
    if (protocol === undefined) throw new UpgradeError(403, unsupportedProtocolMessage(offered, served));
    negotiated.set(req, protocol);
    return new Promise((resolve) => wss.handleUpgrade(req, socket, head, resolve));
  };

  const route = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const refused = await deps.auth.check(req, url.pathname);
    if (refused) throw new UpgradeError(refused.status, refused.message);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const kind = parts[0];
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    const websocket = upgrade === 'websocket';
    if (upgrade !== 'websocket' && upgrade !== 'spdy/3.1')
      throw new UpgradeError(400, `unsupported upgrade protocol: ${req.headers.upgrade ?? ''}`);

    if (kind === 'portForward' && parts.length === 3) {
      const worker = deps.findPod(parts[1], parts[2]);
      if (!worker) throw new UpgradeError(404, 'pod does not exist');
      const host = worker.podIP;
      if (!host) throw new UpgradeError(500, `pod "${parts[2]}" has no IP address yet`);
      const target = {
        pod: parts[2],
        uid: worker.uid,
        host,
        connect: (port: number) => net.connect({ host, port, noDelay: true }),
        log,
      };
      const tunnel = offeredProtocols(req, 'sec-websocket-protocol').includes(PORT_FORWARD_TUNNEL_PROTOCOL);
      if (websocket && !tunnel) {
        // the ports in the query, each on its own pair of channels (the Python client, client-node)
        const ports = parseKubeletForwardPorts(url.searchParams);
        if (typeof ports === 'string') throw new UpgradeError(400, ports);
        const ws = await acceptWebSocket(req, socket, head, PORT_FORWARD_CHANNEL_PROTOCOLS);
        serveWebSocketPortForward(ws, ports, target);
        return;
      }
      let session: SpdySession;
      if (websocket) {
        const ws = await acceptWebSocket(req, socket, head, [PORT_FORWARD_TUNNEL_PROTOCOL]);
        // every binary message is a piece of the SPDY byte stream
        session = new SpdySession(createWebSocketStream(ws));
      } else session = upgradeSpdy(req, socket, head, [PORT_FORWARD_PROTOCOL]).session;
      servePortForward(session, target);
      return;
    }

    if ((kind === 'exec' || kind === 'attach') && parts.length === 4) {
      const [, namespace, podName, containerName] = parts;
      const worker = deps.findPod(namespace, podName);
      if (!worker) throw new UpgradeError(404, 'pod does not exist');
      const opts = channelOptions(url.searchParams);
      const argv = url.searchParams.getAll('command');
      if (kind === 'exec' && argv.length === 0)
        throw new UpgradeError(400, 'you must specify at least one command for the container');
      const rec = runningContainer(worker, containerName);
      let streams: CommandStreams | undefined;
      if (websocket)
        streams = websocketCommandStreams(await acceptWebSocket(req, socket, head, CHANNEL_PROTOCOLS), opts);
      else {
        const { session, protocol } = upgradeSpdy(req, socket, head, SPDY_COMMAND_PROTOCOLS);
        streams = await spdyCommandStreams(session, protocol, opts);
      }
      if (!streams) return;
      const podLog = log.child({ pod: `${namespace}/${podName}`, container: containerName });
      if (kind === 'attach') {
        const spec = rec.spec;
        await runAttach(
          { process: rec.process!, stdinOnce: spec.stdinOnce ?? false, tty: spec.tty ?? false },
          streams,
          podLog,
        );
        return;
      }
      // a container that has just started may still be setting up its root (execLine refuses to enter it before)
      await rec.process!.whenSetUp();
      await runCommand((a, env) => deps.execLine(rec, a, env), argv, streams, podLog);
      return;
    }
    throw new UpgradeError(404, '404 page not found');
  };

  return (req, socket, head) => {
    socket.on('error', () => undefined);
    route(req, socket, head).catch((err: unknown) => {
      if (err instanceof UpgradeError) {
        if (!socket.destroyed) refuseUpgrade(socket, err.status, err.message);
        return;
      }
      log.error({ err }, 'streaming request failed');
      if (!socket.destroyed) refuseUpgrade(socket, 500, (err as Error).message);
    });
  };
}
