// What a new user meets in the first hour (issue #16), from the user's side: certificates made with the openssl
// CLI in every key type behind an Ingress, a Kubernetes docs manifest that runs registry.k8s.io/busybox, and
// what `kubectl describe` and `kubemu image ls` say about an image kubemu does not have.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';

const DOCS_EXAMPLE = resolve(
  import.meta.dirname,
  '../fixtures/kubernetes-website/pods/probe/exec-liveness.yaml',
);
const FAKE_CERT_CN = 'Kubernetes Ingress Controller Fake Certificate';

let cluster: TestCluster;
let dir: string;

/** a command-line tool as a user runs it; never throws, the caller looks at code and output */
const sh = (cmd: string, args: string[], input = ''): Promise<Run> =>
  run(cmd, args, process.env, { input, timeoutMs: 30_000 });
const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/** The ways people make a key and a self-signed certificate with the openssl CLI. */
const KEY_TYPES: { host: string; keygen: (key: string) => string[][] }[] = [
  { host: 'rsa2048.example.test', keygen: () => [] }, // req -newkey rsa:2048 below
  { host: 'rsa4096.example.test', keygen: () => [] },
  // `openssl genrsa -traditional`: a PKCS#1 "RSA PRIVATE KEY", as older guides and tools write
  { host: 'pkcs1.example.test', keygen: (key) => [['genrsa', '-traditional', '-out', key, '2048']] },
  // `openssl ecparam -genkey`: an "EC PARAMETERS" block before the "EC PRIVATE KEY"
  {
    host: 'p256.example.test',
    keygen: (key) => [['ecparam', '-name', 'prime256v1', '-genkey', '-out', key]],
  },
  { host: 'p384.example.test', keygen: () => [] },
  { host: 'ed25519.example.test', keygen: (key) => [['genpkey', '-algorithm', 'ed25519', '-out', key]] },
];
const NEWKEY: Record<string, string[]> = {
  'rsa2048.example.test': ['-newkey', 'rsa:2048'],
  'rsa4096.example.test': ['-newkey', 'rsa:4096'],
  'p384.example.test': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
};

/** openssl req -x509 for the host, with a key made the way KEY_TYPES says; returns the files */
async function makeCertificate(host: string): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${host}.key`);
  const cert = join(dir, `${host}.crt`);
  for (const args of KEY_TYPES.find((k) => k.host === host)!.keygen(key))
    must(await sh('openssl', args), `openssl ${args[0]}`);
  const keyArgs = NEWKEY[host] ? [...NEWKEY[host], '-nodes', '-keyout', key] : ['-key', key];
  must(
    await sh('openssl', [
      ...['req', '-x509', ...keyArgs, '-days', '2', '-subj', `/CN=${host}`],
      ...['-addext', `subjectAltName=DNS:${host}`, '-out', cert],
    ]),
    `openssl req for ${host}`,
  );
  return { cert, key };
}

/** The subject CN of the certificate the gateway presents: `openssl s_client`, with or without SNI. */
async function servedCN(address: string, servername: string | undefined): Promise<string> {
  const r = await sh(
    'openssl',
    ['s_client', '-connect', address, ...(servername ? ['-servername', servername] : ['-noservername'])],
    '',
  );
  const subject = /^subject=.*?CN\s*=\s*([^,\n]+)/m.exec(r.stdout);
  if (!subject)
    throw new Error(`openssl s_client -connect ${address}: no certificate\n${r.stdout}${r.stderr}`);
  return subject[1].trim();
}

describe('the first hour', () => {
  beforeAll(async () => {
    ensureCommands([
      ['openssl', 'openssl'],
      ['curl', 'curl'],
    ]);
    dir = mkdtempSync(join(tmpdir(), 'kubemu-first-hour-'));
    cluster = await upCluster({ nodes: 2 });
    // started first: its liveness probe needs time on the clock before it has proven anything
    must(await cluster.kubectl(['apply', '-f', DOCS_EXAMPLE]), 'kubectl apply the docs manifest');
  });
  afterAll(async () => {
    await cluster?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an Ingress serves each openssl-made certificate (RSA 2048/4096, PKCS#1, P-256, P-384, Ed25519) for its host, and the default without SNI', async () => {
    must(
      await cluster.kubectl(['create', 'deployment', 'web', '--image=kubemu/echo', '--port=8080']),
      'create deployment',
    );
    must(await cluster.kubectl(['expose', 'deployment', 'web', '--port=80', '--target-port=8080']), 'expose');
    const files = new Map<string, { cert: string; key: string }>();
    for (const { host } of KEY_TYPES) {
      const pair = await makeCertificate(host);
      files.set(host, pair);
      const secret = host.split('.')[0] + '-tls';
      must(
        await cluster.kubectl([
          'create',
          'secret',
          'tls',
          secret,
          `--cert=${pair.cert}`,
          `--key=${pair.key}`,
        ]),
        `kubectl create secret tls ${secret}`,
      );
    }
    const hosts = KEY_TYPES.map((k) => k.host);
    const ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'shop' },
      spec: {
        tls: hosts.map((h) => ({ hosts: [h], secretName: h.split('.')[0] + '-tls' })),
        rules: hosts.map((h) => ({
          host: h,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'web', port: { number: 80 } } },
              },
            ],
          },
        })),
      },
    };
    must(await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(ingress) }), 'apply ingress');
    const https = new URL((await cluster.status()).ingress.https ?? 'https://missing');
    const port = https.port || '443';
    const address = `${https.hostname}:${port}`;

    for (const host of hosts) {
      // each certificate, for its own name (the gateway picks the Secrets up within a moment)
      const cn = await cluster.waitFor(
        `${host}'s certificate on ${address}`,
        async () => ((await servedCN(address, host)) === host ? host : undefined),
        30_000,
      );
      expect(cn).toBe(host);
      // and what a user runs: curl trusting only that certificate
      const body = await cluster.waitFor(
        `curl https://${host}/`,
        async () => {
          const r = await sh('curl', [
            ...['-sS', '--fail', '--resolve', `${host}:${port}:${https.hostname}`],
            ...['--cacert', files.get(host)!.cert, `https://${host}:${port}/hello`],
          ]);
          return r.code === 0 ? r.stdout : undefined;
        },
        30_000,
      );
      expect(JSON.parse(body)).toMatchObject({ host: expect.stringMatching(host), path: '/hello' });
    }
    // no server name (an IP address in the URL), and a name no Ingress claims: the fake default
    expect(await servedCN(address, undefined)).toBe(FAKE_CERT_CN);
    expect(await servedCN(address, 'nobody.example.test')).toBe(FAKE_CERT_CN);
    // curl to the IP address sends no SNI: it gets the default, which -k accepts
    const byIp = await sh('curl', ['-sS', '-k', '-v', '--http1.1', `https://${address}/`]);
    expect(byIp.stderr).toContain(FAKE_CERT_CN);
  });

  it('a Kubernetes docs manifest using registry.k8s.io/busybox runs, and its liveness probe restarts it as the docs say', async () => {
    const pod = await cluster.waitFor(
      'liveness-exec Running',
      async () => {
        const p = await cluster.getJson(['get', 'pod', 'liveness-exec']);
        return p.status?.phase === 'Running' ? p : undefined;
      },
      60_000,
    );
    expect(pod.status.containerStatuses[0].image).toBe('registry.k8s.io/busybox:1.27.2');
    const described = must(await cluster.kubectl(['describe', 'pod', 'liveness-exec']), 'describe');
    expect(described).toMatch(/Container image "registry.k8s.io\/busybox:1.27.2" already present on machine/);
    // the page's story: /tmp/healthy goes away after 30 s, the exec probe fails, the kubelet restarts the container
    await cluster.waitFor(
      'liveness-exec restarted by its liveness probe',
      async () => {
        const p = await cluster.getJson(['get', 'pod', 'liveness-exec']);
        return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1;
      },
      120_000,
    );
    const events = await cluster.getJson<{ items: { reason: string; message: string }[] }>([
      ...['get', 'events', '--field-selector', 'involvedObject.name=liveness-exec'],
    ]);
    const messages = events.items.map((e) => `${e.reason}: ${e.message}`);
    expect(messages).toContainEqual(
      expect.stringMatching(/^Unhealthy: Liveness probe failed: .*\/tmp\/healthy/),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(/^Killing: Container liveness failed liveness probe, will be restarted/),
    );
  });

  it('an image kubemu does not have: describe says which images exist and points at kubemu image ls', async () => {
    // the first thing many people type
    must(await cluster.kubectl(['run', 'nginx', '--image=nginx']), 'kubectl run');
    const backOff = await cluster.waitFor(
      'nginx in ImagePullBackOff',
      async () => {
        const p = await cluster.getJson(['get', 'pod', 'nginx']);
        const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
        return waiting?.reason === 'ImagePullBackOff' ? (waiting.message as string) : undefined;
      },
      60_000,
    );
    // the status keeps the last pull error during the back-off (upstream 1.30+), with what kubemu has instead
    expect(backOff).toMatch(
      /^Back-off pulling image "nginx": ErrImagePull: .*docker.io\/library\/nginx:latest: not found; .*the images here are busybox, /,
    );
    const described = must(await cluster.kubectl(['describe', 'pod', 'nginx']), 'describe');
    // the Failed event says it too
    expect(described).toMatch(/Failed to pull image "nginx": .*not found/);
    expect(described).toMatch(/the images here are busybox, kubemu\/cart, kubemu\/echo, kubemu\/hello/);
    expect(described).toContain("'kubemu image ls'");

    // a reference docker's grammar rejects: InvalidImageName, as upstream's kubelet says it
    // (kubectl run checks the name itself, so this one comes as a manifest)
    must(
      await cluster.kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'shouty' },
          spec: { containers: [{ name: 'shouty', image: 'Busybox', command: ['sleep', '3600'] }] },
        }),
      }),
      'apply',
    );
    await cluster.waitFor(
      'shouty InvalidImageName',
      async () => {
        const p = await cluster.getJson(['get', 'pod', 'shouty']);
        return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'InvalidImageName';
      },
      60_000,
    );
    const shouty = must(await cluster.kubectl(['get', 'pod', 'shouty']), 'get');
    expect(shouty).toMatch(/shouty\s+0\/1\s+InvalidImageName/);
    const describedShouty = must(await cluster.kubectl(['describe', 'pod', 'shouty']), 'describe');
    expect(describedShouty).toMatch(
      /Failed to apply default image tag "Busybox": couldn't parse image name "Busybox": invalid reference format: repository name \(library\/Busybox\) must be lowercase/,
    );

    // what the hint points at: the images, including one of the user's own
    const own = join(dir, 'own-image');
    mkdirSync(own);
    writeFileSync(join(own, 'image.json'), JSON.stringify({ entrypoint: ['sh', '-c', 'sleep 3600'] }));
    const where = ['--name', cluster.name, '--state-dir', cluster.stateDir];
    must(await cluster.kubemu(['image', 'build', own, '-t', 'me/app:v1', ...where]), 'kubemu image build');
    const ls = must(await cluster.kubemu(['image', 'ls', ...where]), 'kubemu image ls');
    expect(ls.split('\n')[0]).toMatch(/^IMAGE\s+TAG\s+SOURCE$/);
    expect(ls).toMatch(/^busybox\s+latest\s+built-in$/m);
    expect(ls).toMatch(/^kubemu\/hello\s+v1\s+built-in$/m);
    expect(ls).toMatch(/^me\/app\s+v1\s+kubemu image build$/m);
    expect(ls).toMatch(/busybox also runs for docker.io\/library\/busybox, registry.k8s.io\/busybox, /);
  });
});
