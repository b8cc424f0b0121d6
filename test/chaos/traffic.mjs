// Traffic for the chaos suite, as a child process so it can run inside another network namespace (the compose
// cluster's): `load URL...` sends HTTP GETs in 4 loops, `write SERVER PREFIX` POSTs ConfigMaps to the apiserver
// in 4 loops (token and CA from the env). Every 200 ms, and on SIGTERM, it prints one JSON line of totals;
// `write` also prints `ack NAME` for every write the apiserver acknowledged (201).
import http from 'node:http';
import https from 'node:https';

const [mode, ...rest] = process.argv.slice(2);
const totals = { sent: 0, failed: 0, acked: 0, lastOkAt: 0, lastFailAt: 0, lastError: '' };
let stopped = false;
let seq = 0;

const done = (ok, error) => {
  if (ok) totals.lastOkAt = Date.now();
  else {
    totals.failed++;
    totals.lastFailAt = Date.now();
    totals.lastError = error;
  }
};

function get(url) {
  return new Promise((resolve) => {
    totals.sent++;
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(done(res.statusCode === 200, `status ${res.statusCode}`)));
      res.on('error', (e) => resolve(done(false, String(e))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(done(false, String(e))));
  });
}

function post(server, prefix) {
  const name = `${prefix}-${seq++}`;
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } });
  return new Promise((resolve) => {
    totals.sent++;
    const req = https.request(
      `${server}/api/v1/namespaces/default/configmaps`,
      {
        method: 'POST',
        agent: false,
        timeout: 3000,
        ca: process.env.CHAOS_CA,
        headers: {
          Authorization: `Bearer ${process.env.CHAOS_TOKEN}`,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 201) {
            totals.acked++;
            process.stdout.write(`ack ${name}\n`);
          }
          resolve(done(res.statusCode === 201, `status ${res.statusCode}`));
        });
        res.on('error', (e) => resolve(done(false, String(e))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(done(false, String(e))));
    req.end(body);
  });
}

const pace = () => new Promise((r) => setTimeout(r, 20));
async function loop(one) {
  while (!stopped) {
    await one();
    await pace();
  }
}

const report = () => process.stdout.write(`${JSON.stringify(totals)}\n`);
const timer = setInterval(report, 200);
const loops = [];
// each loop walks every URL in turn
let next = 0;
if (mode === 'load') for (let i = 0; i < 4; i++) loops.push(loop(() => get(rest[next++ % rest.length])));
else if (mode === 'write') for (let i = 0; i < 4; i++) loops.push(loop(() => post(rest[0], rest[1])));
else {
  process.stderr.write(`usage: traffic.mjs load URL... | write SERVER PREFIX\n`);
  process.exit(2);
}
process.on('SIGTERM', async () => {
  stopped = true;
  await Promise.all(loops);
  clearInterval(timer);
  report();
  process.exit(0);
});
