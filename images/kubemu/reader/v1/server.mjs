// kubemu/reader: serves the current contents of $FILE over HTTP (the other half of the writer).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

// Without a private mount namespace the kubelet sets KUBEMU_ROOT and absolute paths live under it.
const inRoot = (p) =>
  process.env.KUBEMU_ROOT && path.isAbsolute(p) ? path.join(process.env.KUBEMU_ROOT, p) : p;
const file = inRoot(process.env.FILE ?? '/data/out.log');
const host = process.env.POD_IP ?? process.env.HOST ?? '0.0.0.0';
const port = Number(process.env.PORT ?? 8080);

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return void res.end('ok\n');
  fs.readFile(file, (err, data) => {
    if (err) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`${process.env.FILE ?? '/data/out.log'}: ${err.code}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(data);
  });
});

server.listen(port, host, () => console.log(`reader serving ${file} on ${host}:${port}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
