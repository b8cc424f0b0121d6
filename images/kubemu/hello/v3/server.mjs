// kubemu/hello: an HTTP server that says which version and which pod answered.
import http from 'node:http';
import os from 'node:os';

const version = process.env.VERSION ?? 'v3';
const host = process.env.POD_IP ?? process.env.HOST ?? '0.0.0.0';
const port = Number(process.env.PORT ?? 8080);
const pod = process.env.POD_NAME ?? process.env.HOSTNAME ?? os.hostname();
const node = process.env.NODE_NAME ?? process.env.KUBEMU_NODE_NAME ?? '';

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/json') {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({ message: `Hello from ${pod} (${version})`, version, pod, node, podIP: host }) + '\n',
    );
    return;
  }
  if (url.pathname === '/healthz') {
    res.end('ok\n');
    return;
  }
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(`Hello from ${pod} (${version})\n`);
});

server.listen(port, host, () => console.log(`hello ${version} listening on ${host}:${port}`));
process.on('SIGTERM', () => {
  console.log('SIGTERM received, shutting down');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
