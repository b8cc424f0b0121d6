// Issue #17 item 2: the apiserver reaches kubelets with a client certificate of its own and verifies their serving
// certificates against the cluster CA, and never sends a bearer token. A listener of the test's own, with an
// openssl self-signed certificate, posing as a node's kubelet must get no credential at all; `kubectl logs` and
// `kubectl top` must still work against the real kubelets; the kubelet itself takes only the apiserver's certificate.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';

const DECOY_IP = '127.0.1.200';
let c: TestCluster;
let keyDir: string;
let decoy: Server;
let decoyPort = 0;
/** what the decoy listener saw: TCP connections, and every request's Authorization header (or none) */
const seen = { connections: 0, requests: [] as { path: string; authorization: string | undefined }[] };

beforeAll(async () => {
  ensureCommands([
    ['openssl', 'openssl'],
    ['curl', 'curl'],
  ]);
  keyDir = mkdtempSync(join(tmpdir(), 'kubemu-decoy-'));
  // what anyone can make: a key and a self-signed certificate for the address it listens on
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
      ...['-keyout', join(keyDir, 'decoy.key'), '-out', join(keyDir, 'decoy.crt')],
      ...['-subj', `/CN=${DECOY_IP}`, '-addext', `subjectAltName=IP:${DECOY_IP}`],
    ],
    { stdio: 'pipe' },
  );
  decoy = createServer(
    { key: readFileSync(join(keyDir, 'decoy.key')), cert: readFileSync(join(keyDir, 'decoy.crt')) },
    (req, res) => {
      seen.requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
      // what a kubelet answers a caller it does not know: the old apiserver then tried its next token
      res.writeHead(401, { 'Content-Type': 'text/plain' }).end('Unauthorized');
    },
  );
  decoy.on('connection', () => seen.connections++);
  decoy.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    decoy.once('error', reject);
    decoy.listen(0, DECOY_IP, () => resolve());
  });
  decoyPort = (decoy.address() as { port: number }).port;
  c = await upCluster({ nodes: 1 });
});

afterAll(async () => {
  decoy?.close();
  decoy?.closeAllConnections();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  await c?.down();
});

describe('the apiserver and kubelets', () => {
  it('sends no token to a listener posing as a kubelet, and kubectl logs says the certificate is not trusted', async () => {
    // a Node object pointing at the decoy, and a pod bound to it that tolerates the node never becoming Ready
    const node = `apiVersion: v1
kind: Node
metadata:
  name: decoy
`;
    expect((await c.kubectl(['apply', '-f', '-'], { input: node })).code).toBe(0);
    const status = {
      status: {
        addresses: [{ type: 'InternalIP', address: DECOY_IP }],
        daemonEndpoints: { kubeletEndpoint: { Port: decoyPort } },
      },
    };
    const patched = await c.kubectl([
      ...['patch', 'node', 'decoy', '--subresource=status', '--type=merge'],
      ...['-p', JSON.stringify(status)],
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    const pod = `apiVersion: v1
kind: Pod
metadata:
  name: decoy
spec:
  nodeName: decoy
  tolerations:
  - {operator: Exists}
  containers:
  - name: decoy
    image: busybox
    command: ["sh", "-c", "sleep 3600"]
`;
    expect((await c.kubectl(['apply', '-f', '-'], { input: pod })).code).toBe(0);

    const logs = await c.kubectl(['logs', 'decoy'], { timeoutMs: 30_000 });
    // the metrics scraper calls every node each second too: wait for a few of its attempts (new connections
    // when handshakes fail, or requests on a kept-alive one)
    await c.waitFor(
      'the apiserver to call the decoy a few times',
      () => Promise.resolve(seen.connections >= 3 || seen.requests.length >= 3),
      30_000,
    );
    // no credential of any kind reached the decoy (the old apiserver sent the node's token, then the admin's)
    expect(seen.requests.filter((r) => r.authorization !== undefined).map((r) => r.path)).toEqual([]);
    // in fact the apiserver hung up at the handshake: not a single request
    expect(seen.requests).toEqual([]);
    // and kubectl says why, as upstream's apiserver words it
    expect(logs.code).not.toBe(0);
    expect(logs.stderr).toMatch(
      new RegExp(
        `^Error from server: Get "https://${DECOY_IP.replace(/\./g, '\\.')}:${decoyPort}/containerLogs/default/decoy/decoy": ` +
          'tls: failed to verify certificate: x509: certificate signed by unknown authority',
      ),
    );
  });

  it('kubectl logs and kubectl top still work against the real kubelets', async () => {
    const run1 = await c.kubectl([
      ...['run', 'hello', '--image=busybox', '--'],
      ...['sh', '-c', 'echo hello from node-1; sleep 3600'],
    ]);
    expect(run1.code, run1.stderr).toBe(0);
    await c.waitFor(
      'kubectl logs hello',
      async () => {
        const r = await c.kubectl(['logs', 'hello']);
        return r.code === 0 && r.stdout.includes('hello from node-1');
      },
      60_000,
    );
    const top = await c.waitFor(
      'kubectl top pod hello',
      async () => {
        const r = await c.kubectl(['top', 'pod', 'hello']);
        return r.code === 0 && r.stdout.includes('hello') && r.stdout;
      },
      60_000,
    );
    expect(top).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    const nodes = await c.kubectl(['top', 'node', 'node-1']);
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout).toMatch(/^node-1\s+\d+m/m);
  });

  it('the kubelet serves a certificate of the cluster CA for its IP and answers only the apiserver', async () => {
    const pki = join(c.stateDir, 'pki');
    const admin = await c.kubectl(['config', 'view', '--raw', '-o', 'jsonpath={.users[0].user.token}']);
    const curl = (args: string[]) =>
      run('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...args], process.env, { timeoutMs: 15_000 });
    const url = 'https://127.0.1.1:10250/stats/summary';
    // the serving certificate verifies against the cluster CA, for the node's address
    const anonymous = await curl(['--cacert', join(pki, 'ca.crt'), url]);
    expect(anonymous.code, anonymous.stderr).toBe(0);
    expect(anonymous.stdout.trim().split('\n').pop()).toBe('401');
    // a bearer token, even the admin's, is no credential here
    const token = await curl([
      '--cacert',
      join(pki, 'ca.crt'),
      '-H',
      `Authorization: Bearer ${admin.stdout}`,
      url,
    ]);
    expect(token.stdout.trim().split('\n').pop()).toBe('401');
    // the apiserver's kubelet client certificate is
    const apiserver = await curl([
      ...['--cacert', join(pki, 'ca.crt')],
      ...[
        '--cert',
        join(pki, 'apiserver-kubelet-client.crt'),
        '--key',
        join(pki, 'apiserver-kubelet-client.key'),
      ],
      url,
    ]);
    expect(apiserver.stdout.trim().split('\n').pop()).toBe('200');
    expect(JSON.parse(apiserver.stdout.trim().split('\n').slice(0, -1).join('\n')).node.nodeName).toBe(
      'node-1',
    );
  });
});
