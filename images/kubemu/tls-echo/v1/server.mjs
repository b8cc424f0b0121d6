// kubemu/tls-echo: an HTTPS server that terminates TLS itself with tls.crt/tls.key from TLS_DIR (a mounted secret).
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Without a private mount namespace the kubelet sets KUBEMU_ROOT and absolute paths live under it.
const inRoot = (p) =>
  process.env.KUBEMU_ROOT && path.isAbsolute(p) ? path.join(process.env.KUBEMU_ROOT, p) : p;
const host = process.env.POD_IP ?? process.env.HOST ?? '0.0.0.0';
const port = Number(process.env.PORT ?? 8443);
const pod = process.env.POD_NAME ?? process.env.HOSTNAME ?? os.hostname();
const tlsDir = inRoot(process.env.TLS_DIR ?? '/etc/tls');

const server = https.createServer(
  { cert: fs.readFileSync(path.join(tlsDir, 'tls.crt')), key: fs.readFileSync(path.join(tlsDir, 'tls.key')) },
  (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        method: req.method,
        host: req.headers.host ?? '',
        path: url.pathname,
        sni: req.socket.servername || null,
        tls: req.socket.getProtocol(),
        pod,
      }) + '\n',
    );
  },
);

server.listen(port, host, () => console.log(`tls-echo listening on ${host}:${port}`));
process.on('SIGTERM', () => {
  console.log('SIGTERM received, shutting down');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
