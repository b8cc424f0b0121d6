// kubemu/hello: an HTTP server that says which version and which pod answered.
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';

const version = process.env.VERSION ?? 'v3';
const host = process.env.POD_IP ?? process.env.HOST ?? '0.0.0.0';
const port = Number(process.env.PORT ?? 8080);
const pod = process.env.POD_NAME ?? process.env.HOSTNAME ?? os.hostname();
const node = process.env.NODE_NAME ?? process.env.KUBEMU_NODE_NAME ?? '';
const greeting = process.env.MESSAGE || 'Hello';

let draining = false;
const server = http.createServer((req, res) => {
  if (draining) res.setHeader('connection', 'close');
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/json') {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({ message: `${greeting} from ${pod} (${version})`, version, pod, node, podIP: host }) +
        '\n',
    );
    return;
  }
  if (url.pathname === '/healthz') {
    res.end('ok\n');
    return;
  }
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(`${greeting} from ${pod} (${version})\n`);
});

server.listen(port, host, () => console.log(`hello ${version} listening on ${host}:${port}`));
// Graceful stop: stop accepting at once (kube-proxy has already stopped sending new connections), answer
// what is in flight, tell keep-alive clients `Connection: close` on their next response, let connections
// that stay idle time out, and exit when the last one is gone. net.Server's close, not http.Server's: the
// latter also drops idle keep-alive connections at once, racing a client that is just sending on one.
process.on('SIGTERM', () => {
  console.log('SIGTERM received, draining');
  draining = true;
  server.keepAliveTimeout = 1000;
  net.Server.prototype.close.call(server, () => process.exit(0));
  setTimeout(() => server.closeAllConnections(), 10_000).unref();
});
