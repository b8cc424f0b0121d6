// A TCP server and client the service-path bench runs inside the network namespaces it makes (never in the host's):
//   tcp-probe.js server PORT             sink ('S': count bytes, answer the count at the end) or echo ('E')
//   tcp-probe.js throughput HOST PORT MB   streams MB megabytes, prints {"mbPerS": N}
//   tcp-probe.js latency HOST PORT N       N new connections, each one 1-byte round trip, then N round trips on
//                                         one connection; prints {"connectRttMs": [...], "rttMs": [...]}
import { connect, createServer, type Socket } from 'node:net';

function serve(port: number): void {
  createServer((sock) => {
    let mode = '';
    let count = 0;
    sock.on('data', (c: Buffer) => {
      if (!mode) {
        mode = String.fromCharCode(c[0]);
        c = c.subarray(1);
      }
      if (mode === 'E') sock.write(c);
      else count += c.length;
    });
    sock.on('end', () => (mode === 'S' ? sock.end(`${count}\n`) : sock.end()));
    sock.on('error', () => undefined);
  }).listen(port, '0.0.0.0', () => process.stdout.write('listening\n'));
}

const open = (host: string, port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = connect({ host, port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });

const once = (s: Socket): Promise<Buffer> => new Promise((resolve) => s.once('data', resolve));

async function throughput(host: string, port: number, mb: number): Promise<void> {
  const chunk = Buffer.alloc(256 * 1024, 120);
  const started = performance.now();
  const s = await open(host, port);
  s.write('S');
  let left = mb * 4;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
      resolve();
    };
    pump();
  });
  let answer = '';
  for await (const c of s) answer += String(c);
  const seconds = (performance.now() - started) / 1000;
  if (Number(answer) !== mb * 1024 * 1024) throw new Error(`the server counted ${answer.trim()} bytes`);
  process.stdout.write(`${JSON.stringify({ mbPerS: mb / seconds })}\n`);
}

async function latency(host: string, port: number, n: number): Promise<void> {
  const connectRttMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const s = await open(host, port);
    const reply = once(s);
    s.write('Ex');
    await reply;
    connectRttMs.push(performance.now() - t);
    s.destroy();
  }
  const rttMs: number[] = [];
  const s = await open(host, port);
  s.write('E');
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const reply = once(s);
    s.write('x');
    await reply;
    rttMs.push(performance.now() - t);
  }
  s.destroy();
  process.stdout.write(`${JSON.stringify({ connectRttMs, rttMs })}\n`);
}

const [cmd, a, b, c] = process.argv.slice(2);
if (cmd === 'server') serve(Number(a));
else if (cmd === 'throughput') await throughput(a, Number(b), Number(c));
else if (cmd === 'latency') await latency(a, Number(b), Number(c));
else {
  process.stderr.write('usage: tcp-probe.js server PORT | throughput HOST PORT MB | latency HOST PORT N\n');
  process.exit(2);
}
