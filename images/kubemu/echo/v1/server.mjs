// kubemu/echo: answers every HTTP request with what it saw (JSON), echoes WebSocket messages, and UDP datagrams when UDP=1.
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import crypto from 'node:crypto';
import os from 'node:os';

const host = process.env.POD_IP ?? process.env.HOST ?? '0.0.0.0';
const port = Number(process.env.PORT ?? 8080);
const pod = process.env.POD_NAME ?? process.env.HOSTNAME ?? os.hostname();
const node = process.env.NODE_NAME ?? process.env.KUBEMU_NODE_NAME ?? '';

let draining = false;
const server = http.createServer((req, res) => {
  if (draining) res.setHeader('connection', 'close');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = {
      method: req.method,
      host: req.headers.host ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      pod,
      node,
      podIP: host,
      remoteAddress: req.socket.remoteAddress,
    };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body, null, 2) + '\n');
  });
});

// Minimal RFC 6455: handshake, then echo text/binary frames, answer pings, close on close.
server.on('upgrade', (req, socket) => {
  const key = req.headers['sec-websocket-key'];
  if (String(req.headers.upgrade).toLowerCase() !== 'websocket' || typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    return;
  }
  const accept = crypto
    .createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  let fragments = [];
  let fragOpcode = 0;
  socket.on('data', (data) => {
    buf = Buffer.concat([buf, data]);
    for (;;) {
      const frame = parseFrame(buf);
      if (!frame) return;
      buf = buf.subarray(frame.length);
      if (frame.opcode === 0x8) {
        socket.end(encodeFrame(0x8, frame.payload.subarray(0, 2)));
        return;
      }
      if (frame.opcode === 0x9) {
        socket.write(encodeFrame(0xa, frame.payload));
        continue;
      }
      if (frame.opcode === 0xa) continue;
      if (frame.opcode !== 0) fragOpcode = frame.opcode;
      fragments.push(frame.payload);
      if (frame.fin) {
        socket.write(encodeFrame(fragOpcode, Buffer.concat(fragments)));
        fragments = [];
      }
    }
  });
  socket.on('error', () => socket.destroy());
});

function parseFrame(buf) {
  if (buf.length < 2) return null;
  const fin = (buf[0] & 0x80) !== 0;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let len = buf[1] & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  const maskOff = off;
  if (masked) off += 4;
  if (buf.length < off + len) return null;
  const payload = Buffer.from(buf.subarray(off, off + len));
  if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskOff + (i % 4)];
  return { fin, opcode, payload, length: off + len };
}

function encodeFrame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = len;
  else if (len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

server.listen(port, host, () => console.log(`echo listening on ${host}:${port} (tcp)`));

let udp;
if (process.env.UDP === '1') {
  udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  udp.bind(port, host, () => console.log(`echo listening on ${host}:${port} (udp)`));
}

// Graceful stop: stop accepting at once (kube-proxy has already stopped sending new connections), answer
// what is in flight, tell keep-alive clients `Connection: close` on their next response, let connections
// that stay idle time out, and exit when the last one is gone. net.Server's close, not http.Server's: the
// latter also drops idle keep-alive connections at once, racing a client that is just sending on one.
process.on('SIGTERM', () => {
  console.log('SIGTERM received, draining');
  draining = true;
  udp?.close();
  server.keepAliveTimeout = 1000;
  net.Server.prototype.close.call(server, () => process.exit(0));
  setTimeout(() => server.closeAllConnections(), 10_000).unref();
});
