// Services end to end against `kubemu up`: ClusterIP (by IP, env and DNS name from a pod), NodePort on every node,
// LoadBalancer (HTTP and TLS passthrough), UDP, headless DNS, ClientIP affinity, load spread, no endpoints.
// ClusterIPs, the cluster DNS and pod IPs are tried from a pod (`kubectl exec probe`), as on a real cluster, so the
// file passes in both network models (with --network=netns they are not reachable from the host); NodePorts and
// LoadBalancer IPs from the host, at the addresses `kubemu status` and `kubectl get svc` print.
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '../../src/util/pki.js';
import { upCluster, type TestCluster } from '../helpers/cluster.js';

let c: TestCluster;

beforeAll(async () => {
  c = await upCluster({ nodes: 3 });
  // the `web` pods (kubemu/echo, 3 replicas) and the Services most tests share; `probe`, a shell pod the tests
  // send from
  const r = await apply(`${deployment('web', 'kubemu/echo:v1', 3)}
---
${service('web', 'app: web', '  - port: 80\n    targetPort: 8080')}
---
apiVersion: v1
kind: Pod
metadata:
  name: probe
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
`);
  expect(r.code, r.stderr).toBe(0);
  await readyEndpoints('web', 3);
  const ready = await c.kubectl(['wait', '--for=condition=Ready', 'pod/probe', '--timeout=90s'], {
    timeoutMs: 100_000,
  });
  expect(ready.code, ready.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await c?.down();
});

function apply(yaml: string) {
  return c.kubectl(['apply', '-f', '-'], { input: yaml });
}

function deployment(name: string, image: string, replicas: number, podSpecExtra = '', containerExtra = '') {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
${podSpecExtra}      containers:
      - name: main
        image: ${image}
${containerExtra}`;
}

function service(name: string, selector: string, ports: string, specExtra = '') {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
${specExtra}  selector:
    ${selector}
  ports:
${ports}
`;
}

/** the ready endpoint IPs of a Service once there are `count` of them (from its EndpointSlices) */
async function readyEndpoints(svc: string, count: number): Promise<string[]> {
  return c.waitFor(
    `${count} ready endpoints of ${svc}`,
    async () => {
      const list = await c.getJson(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`]);
      const ips = list.items.flatMap((s: any) =>
        (s.endpoints ?? [])
          .filter((e: any) => e.conditions?.ready !== false)
          .flatMap((e: any) => e.addresses),
      );
      return ips.length === count ? (ips as string[]).sort() : undefined;
    },
    90_000,
  );
}

async function clusterIP(svc: string): Promise<string> {
  return (await c.getJson(['get', 'svc', svc])).spec.clusterIP;
}

/** one HTTP GET on a fresh connection (kube-proxy balances per connection); resolves the pod that answered */
function getOnce(url: string, timeoutMs = 3000): Promise<{ status: number; pod: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(
      url,
      { agent: false, headers: { connection: 'close' }, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          let pod = '';
          try {
            pod = (JSON.parse(body) as { pod?: string }).pod ?? '';
          } catch {
            /* not the echo server */
          }
          resolve({ status: res.statusCode ?? 0, pod, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/**
 * Runs `script` (an ES module) with node in the `probe` pod through `kubectl exec`; its last line of output,
 * parsed as JSON. `vars` are handed over as JSON in the environment variable VARS.
 */
async function fromProbe<T>(script: string, vars: unknown = {}): Promise<T> {
  const r = await c.kubectl(
    [
      'exec',
      'probe',
      '--',
      'env',
      `VARS=${JSON.stringify(vars)}`,
      'node',
      '--input-type=module',
      '-e',
      script,
    ],
    { timeoutMs: 90_000 },
  );
  if (r.code !== 0) throw new Error(`kubectl exec probe (${r.code}): ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

/**
 * In the probe pod: `count` HTTP GETs of `url`, each on a fresh connection, `concurrency` at a time; how many
 * each pod answered (a failed GET counts under its error code).
 */
async function getManyFromProbe(
  url: string,
  count: number,
  concurrency: number,
): Promise<Record<string, number>> {
  return fromProbe(
    `import { get } from 'node:http';
     const { url, count, concurrency } = JSON.parse(process.env.VARS);
     const once = () => new Promise((resolve) => {
       const req = get(url, { agent: false, headers: { connection: 'close' }, timeout: 3000 }, (res) => {
         let body = '';
         res.on('data', (d) => (body += d));
         res.on('end', () => { try { resolve(JSON.parse(body).pod ?? 'no pod'); } catch { resolve('not JSON'); } });
       });
       req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
       req.on('error', (e) => resolve('ERR ' + (e.code ?? e.message)));
     });
     const counts = {};
     let next = 0;
     await Promise.all(Array.from({ length: concurrency }, async () => {
       while (next < count) { next++; const pod = await once(); counts[pod] = (counts[pod] ?? 0) + 1; }
     }));
     console.log(JSON.stringify(counts));`,
    { url, count, concurrency },
  );
}

async function podLogs(name: string, what: string, done: (log: string) => boolean): Promise<string> {
  return c.waitFor(
    what,
    async () => {
      const r = await c.kubectl(['logs', name]);
      return r.code === 0 && done(r.stdout) ? r.stdout : undefined;
    },
    60_000,
  );
}

describe('ClusterIP Service from inside a pod', () => {
  it('is reached by ClusterIP, by the WEB_SERVICE_HOST/PORT env vars and by DNS name', async () => {
    const ip = await clusterIP('web');
    // from the Service range, which the `kubernetes` Service opens (127.96/16 with the loopback network, 10.96/12
    // with netns)
    expect(ip.split('.').slice(0, 2)).toEqual((await clusterIP('kubernetes')).split('.').slice(0, 2));
    // Node's fetch and dns.lookup go through getaddrinfo, i.e. glibc reading the container's /etc/resolv.conf
    const script = `
      import { lookup, Resolver } from 'node:dns/promises';
      const get = async (u) => { try { const j = await (await fetch(u)).json(); return j.path + '@' + j.pod; }
        catch (e) { return 'ERR ' + (e.cause?.code ?? e.message); } };
      const out = {
        byIP: await get('http://${ip}/by-ip'),
        byEnv: await get('http://' + process.env.WEB_SERVICE_HOST + ':' + process.env.WEB_SERVICE_PORT + '/by-env'),
        short: await get('http://web/short'),
        fqdn: await get('http://web.default.svc.cluster.local/fqdn'),
        lookup: await lookup('web').then((a) => a.address, (e) => 'ERR ' + e.code),
      };
      // the cluster DNS itself, asked directly at the address the kubelet hands on
      const resolver = new Resolver({ timeout: 2000, tries: 2 });
      resolver.setServers([process.env.KUBEMU_DNS]);
      out.dns = await resolver.resolve4('web.default.svc.cluster.local').catch((e) => 'ERR ' + e.code);
      console.log('RESULT ' + JSON.stringify(out));`;
    const shell =
      'echo "KUBEMU_DNS=$KUBEMU_DNS"; echo "RESOLV $(cat /etc/resolv.conf | tr "\\n" "|")"; ' +
      'echo "GETENT_SHORT $(getent hosts web)"; echo "GETENT_FQDN $(getent hosts web.default.svc.cluster.local)"; ' +
      'echo "WGET $(wget -qO- http://$WEB_SERVICE_HOST:$WEB_SERVICE_PORT/wget | tr -d "\\n ")"; ' +
      'node --input-type=module -e "$SCRIPT"';
    const r = await apply(`apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", ${JSON.stringify(shell)}]
    env:
    - name: SCRIPT
      value: ${JSON.stringify(script)}
`);
    expect(r.code, r.stderr).toBe(0);
    const log = await podLogs('client', 'the client pod to finish', (l) => l.includes('RESULT '));
    const line = (prefix: string): string =>
      log
        .split('\n')
        .find((l) => l.startsWith(prefix))!
        .slice(prefix.length)
        .trim();
    const result = JSON.parse(line('RESULT'));
    expect(result.byIP).toMatch(/^\/by-ip@web-/);
    expect(result.byEnv).toMatch(/^\/by-env@web-/);
    expect(line('WGET')).toMatch(/"path":"\/wget"/);
    const dns = line('KUBEMU_DNS=');
    // ADDRESS:PORT, or a bare address for port 53 (the DNS ClusterIP with --network=netns)
    expect(dns).toMatch(/^\d+\.\d+\.\d+\.\d+(:\d+)?$/);
    if (!dns.includes(':') || dns.endsWith(':53')) {
      // ClusterFirst: the kubelet's resolv.conf, bind-mounted over the host's
      expect(line('RESOLV').split('|')).toEqual(
        expect.arrayContaining([
          `nameserver ${dns.split(':')[0]}`,
          expect.stringMatching(/^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/),
          'options ndots:5',
        ]),
      );
      expect(line('GETENT_SHORT').split(/\s+/)).toEqual([ip, 'web.default.svc.cluster.local']);
      expect(line('GETENT_FQDN').split(/\s+/)).toEqual([ip, 'web.default.svc.cluster.local']);
      expect(result.short).toMatch(/^\/short@web-/);
      expect(result.fqdn).toMatch(/^\/fqdn@web-/);
      expect(result.lookup).toBe(ip);
    } else {
      // off port 53 resolv.conf cannot point at the cluster DNS: the host's stays, programs use KUBEMU_DNS
      expect(line('RESOLV')).not.toContain('svc.cluster.local');
    }
    // the cluster DNS answers the same name when asked directly
    expect(result.dns).toEqual([ip]);
  });
});

describe('NodePort and LoadBalancer Services', () => {
  it('a NodePort answers on every node IP, whichever node runs the pods', async () => {
    const r = await apply(`${deployment('pinned', 'kubemu/echo:v1', 2, '      nodeName: node-2\n')}
---
${service('pinned', 'app: pinned', '  - port: 80\n    targetPort: 8080', '  type: NodePort\n')}`);
    expect(r.code, r.stderr).toBe(0);
    await readyEndpoints('pinned', 2);
    const pods = await c.getJson(['get', 'pods', '-l', 'app=pinned']);
    expect(pods.items.map((p: any) => p.spec.nodeName)).toEqual(['node-2', 'node-2']);
    const nodePort = (await c.getJson(['get', 'svc', 'pinned'])).spec.ports[0].nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(nodePort).toBeLessThanOrEqual(32767);
    for (const nodeIP of ['127.0.1.1', '127.0.1.2', '127.0.1.3']) {
      const res = await c.waitFor(`NodePort ${nodePort} on ${nodeIP}`, () =>
        getOnce(`http://${nodeIP}:${nodePort}/np`),
      );
      expect(res.status).toBe(200);
      expect(res.pod).toMatch(/^pinned-/);
      expect(JSON.parse(res.body).node).toBe('node-2');
    }
  });

  it('a LoadBalancer gets an external IP in kubectl get svc and answers HTTP on it', async () => {
    const r = await apply(
      service('web-lb', 'app: web', '  - port: 80\n    targetPort: 8080', '  type: LoadBalancer\n'),
    );
    expect(r.code, r.stderr).toBe(0);
    const externalIP = await c.waitFor('an EXTERNAL-IP for web-lb', async () => {
      const out = await c.kubectl(['get', 'svc', 'web-lb']);
      const row = out.stdout.trim().split('\n')[1]?.split(/\s+/);
      // NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE
      return row && /^127\.0\.2\.\d+$/.test(row[3]) ? row[3] : undefined;
    });
    const header = (await c.kubectl(['get', 'svc', 'web-lb'])).stdout.split('\n')[0];
    expect(header).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
    const res = await c.waitFor('web-lb answers', () => getOnce(`http://${externalIP}/lb`));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).path).toBe('/lb');
    expect(res.pod).toMatch(/^web-/);
  });

  it('a LoadBalancer passes TLS through: the client sees the pod’s own certificate', async () => {
    const ca = await createCertificateAuthority('services-e2e-ca');
    const cert = await issueCertificate(ca, {
      commonName: 'secure.example.com',
      hosts: ['secure.example.com'],
    });
    const secret = `apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata:
  name: secure-cert
data:
  tls.crt: ${Buffer.from(cert.certPem).toString('base64')}
  tls.key: ${Buffer.from(cert.keyPem).toString('base64')}
`;
    const volumes =
      '      volumes:\n      - name: cert\n        secret:\n          secretName: secure-cert\n';
    const mounts = '        volumeMounts:\n        - name: cert\n          mountPath: /etc/tls\n';
    const r = await apply(`${secret}
---
${deployment('secure', 'kubemu/tls-echo:v1', 1, volumes, mounts)}
---
${service('secure', 'app: secure', '  - port: 443\n    targetPort: 8443', '  type: LoadBalancer\n')}`);
    expect(r.code, r.stderr).toBe(0);
    await readyEndpoints('secure', 1);
    const externalIP = await c.waitFor('an external IP for secure', async () => {
      const s = await c.getJson(['get', 'svc', 'secure']);
      return s.status?.loadBalancer?.ingress?.[0]?.ip as string | undefined;
    });
    expect(externalIP).toMatch(/^127\.0\.2\.\d+$/);
    const seen = await c.waitFor(
      'TLS through the load balancer',
      () =>
        new Promise<{ subject: string; issuer: string; body: string } | undefined>((resolve) => {
          const req = httpsRequest(
            {
              host: externalIP,
              port: 443,
              path: '/tls',
              ca: ca.certPem, // trusts only the test CA: anything else fails the handshake
              servername: 'secure.example.com',
              agent: false,
              timeout: 2000,
            },
            (res) => {
              const peer = (res.socket as TLSSocket).getPeerCertificate();
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () =>
                resolve({ subject: String(peer.subject.CN), issuer: String(peer.issuer.CN), body }),
              );
            },
          );
          req.on('timeout', () => req.destroy());
          req.on('error', () => resolve(undefined));
          req.end();
        }),
    );
    expect(seen.subject).toBe('secure.example.com');
    expect(seen.issuer).toBe('services-e2e-ca');
    const body = JSON.parse(seen.body);
    expect(body).toMatchObject({ path: '/tls', sni: 'secure.example.com' });
    expect(body.pod).toMatch(/^secure-/);
  });
});

describe('UDP and headless Services', () => {
  it('a UDP Service echoes datagrams through its ClusterIP', async () => {
    const r =
      await apply(`${deployment('udp-echo', 'kubemu/echo:v1', 2, '', '        env:\n        - name: UDP\n          value: "1"\n')}
---
${service('udp-echo', 'app: udp-echo', '  - port: 5300\n    targetPort: 8080\n    protocol: UDP')}`);
    expect(r.code, r.stderr).toBe(0);
    await readyEndpoints('udp-echo', 2);
    const ip = await clusterIP('udp-echo');
    // from the probe pod: a datagram a second until one comes back (a new Service's rules take a moment)
    const reply = await fromProbe<string | null>(
      `import { createSocket } from 'node:dgram';
       const { ip } = JSON.parse(process.env.VARS);
       const sock = createSocket('udp4');
       const reply = await new Promise((resolve) => {
         const timer = setTimeout(() => resolve(null), 30000);
         sock.on('message', (msg) => { clearTimeout(timer); resolve(msg.toString()); });
         const send = () => sock.send('ping over udp', 5300, ip);
         send();
         const every = setInterval(send, 1000);
         sock.on('close', () => clearInterval(every));
       });
       sock.close();
       console.log(JSON.stringify(reply));`,
      { ip },
    );
    expect(reply).toBe('ping over udp');
  });

  it('a headless Service resolves to its ready pod IPs', async () => {
    const r = await apply(
      service('web-headless', 'app: web', '  - port: 80\n    targetPort: 8080', '  clusterIP: None\n'),
    );
    expect(r.code, r.stderr).toBe(0);
    const podIPs = await readyEndpoints('web-headless', 3);
    const pods = await c.getJson(['get', 'pods', '-l', 'app=web']);
    expect(pods.items.map((p: any) => p.status.podIP).sort()).toEqual(podIPs);
    const dnsAddress = await dnsServer();
    // asked from the probe pod, at the address its kubelet hands on
    const answers = await c.waitFor('headless A records', async () => {
      const a = await fromProbe<string[] | string>(
        `import { Resolver } from 'node:dns/promises';
         const resolver = new Resolver({ timeout: 1000, tries: 1 });
         resolver.setServers([JSON.parse(process.env.VARS).dns]);
         const a = await resolver.resolve4('web-headless.default.svc.cluster.local').catch((e) => 'ERR ' + e.code);
         console.log(JSON.stringify(Array.isArray(a) ? a.sort() : a));`,
        { dns: dnsAddress },
      );
      return Array.isArray(a) && a.length === 3 ? a : undefined;
    });
    expect(answers).toEqual(podIPs);
  });
});

/** where the cluster's DNS listens: what its kubelets tell containers (KUBEMU_DNS) */
async function dnsServer(): Promise<string> {
  const log = await podLogs('client', 'the client pod log', (l) => l.includes('KUBEMU_DNS='));
  return /KUBEMU_DNS=(\S+)/.exec(log)![1];
}

describe('load balancing', () => {
  it('sessionAffinity ClientIP sends every request from one client to one pod', async () => {
    const r = await apply(
      service('sticky', 'app: web', '  - port: 80\n    targetPort: 8080', '  sessionAffinity: ClientIP\n'),
    );
    expect(r.code, r.stderr).toBe(0);
    await readyEndpoints('sticky', 3);
    const ip = await clusterIP('sticky');
    await c.waitFor('sticky answers', async () => {
      const first = await getManyFromProbe(`http://${ip}/`, 1, 1);
      return Object.keys(first).some((pod) => pod.startsWith('web-'));
    });
    // 60 GETs from one pod, i.e. one client IP
    const counts = await getManyFromProbe(`http://${ip}/sticky`, 60, 4);
    expect(Object.values(counts)).toEqual([60]);
    expect(Object.keys(counts)[0]).toMatch(/^web-/);
  });

  it('spreads 3,000 connections over all 3 endpoints, each getting 20%–47%', async () => {
    const ip = await clusterIP('web');
    const counts = new Map(Object.entries(await getManyFromProbe(`http://${ip}/spread`, 3000, 30)));
    expect([...counts.keys()].sort()).toHaveLength(3);
    for (const [pod, n] of counts) {
      expect(pod).toMatch(/^web-/);
      expect(n, `${pod}: ${n} of 3000`).toBeGreaterThanOrEqual(600);
      expect(n, `${pod}: ${n} of 3000`).toBeLessThanOrEqual(1410);
    }
  });

  it('a Service without endpoints refuses connections at once', async () => {
    const r = await apply(service('nobody', 'app: nobody-here', '  - port: 80\n    targetPort: 8080'));
    expect(r.code, r.stderr).toBe(0);
    const ip = await clusterIP('nobody');
    // from the probe pod, timed there
    const { outcome, ms } = await fromProbe<{ outcome: string; ms: number }>(
      `import { connect } from 'node:net';
       const { ip } = JSON.parse(process.env.VARS);
       const started = Date.now();
       const outcome = await new Promise((resolve) => {
         const s = connect({ host: ip, port: 80 });
         const timer = setTimeout(() => { s.destroy(); resolve('hang'); }, 3000);
         s.on('connect', () => { clearTimeout(timer); s.destroy(); resolve('connected'); });
         s.on('error', (e) => { clearTimeout(timer); resolve(e.code ?? e.message); });
       });
       console.log(JSON.stringify({ outcome, ms: Date.now() - started }));`,
      { ip },
    );
    // refused, not left hanging for the probe's 3 s
    expect(outcome).toBe('ECONNREFUSED');
    console.log(`refused in ${ms} ms`);
  });
});
