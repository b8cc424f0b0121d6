// The dashboard in a real (headless Debian) Chromium against `kubemu up`, opened the way the README says
// (`kubemu dashboard`'s plain-HTTP URL, no certificate exceptions): nodes, a Deployment's pods on the nodes
// kubectl says, a rolling update's two tags, a Service's endpoints, a pod's log and its container picker, and a
// node going NotReady. The apiserver's own https URL with #token is checked too (with its certificate accepted).
import { hostname } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { DIST } from '../helpers/apiserver.js';
import { alive, upCluster, type TestCluster } from '../helpers/cluster.js';
import { aptGet } from '../helpers/tools.js';

// page functions run in the browser, but this file compiles without the DOM library
declare const document: any;
type HTMLElement = any;

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SCREENSHOT = join(ROOT, 'docs/dashboard.png');

/** Debian's chromium, installed when missing; no browser means a failed test, never a skipped one. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  aptGet(['update'], 300_000);
  aptGet(['install', '-y', 'chromium'], 600_000);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is still missing after apt-get install chromium`);
}

const DEPLOYMENT = (tag: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: hello, namespace: default }
spec:
  replicas: 3
  minReadySeconds: 1
  selector: { matchLabels: { app: hello } }
  template:
    metadata: { labels: { app: hello } }
    spec:
      containers:
        - name: hello
          image: kubemu/hello:${tag}
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
`;

// the docs' streaming-sidecar pod (kubernetes.io/docs/concepts/cluster-administration/logging/), with one sidecar
// and an init container
const COUNTER_POD = `
apiVersion: v1
kind: Pod
metadata:
  name: counter
spec:
  initContainers:
  - name: init
    image: busybox:1.28
    command: ['sh', '-c', 'echo init ran']
  containers:
  - name: count
    image: busybox:1.28
    args:
    - /bin/sh
    - -c
    - >
      i=0;
      while true;
      do
        echo "$i: $(date)" >> /var/log/1.log;
        i=$((i+1));
        sleep 1;
      done
    volumeMounts:
    - name: varlog
      mountPath: /var/log
  - name: count-log-1
    image: busybox:1.28
    args: [/bin/sh, -c, 'tail -n+1 -F /var/log/1.log']
    volumeMounts:
    - name: varlog
      mountPath: /var/log
  volumes:
  - name: varlog
    emptyDir: {}
`;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `kubemu dashboard --url` as a user runs it; resolves with the URL it prints. */
function startDashboardCommand(cluster: TestCluster): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      join(DIST, 'cli/main.js'),
      'dashboard',
      '--name',
      cluster.name,
      '--state-dir',
      cluster.stateDir,
      '--url',
    ],
    {
      env: { ...process.env, HOME: cluster.home, KUBECONFIG: cluster.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`kubemu dashboard printed no URL in 20 s: ${out}`)),
      20_000,
    );
    const onData = (c: Buffer): void => {
      out += c.toString();
      const url = /^(http:\/\/127\.0\.0\.1:\d+\/dashboard\/)\n/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubemu dashboard exited (${code}): ${out}`));
    });
  });
}

interface PodRow {
  name: string;
  node: string;
  tag: string;
  terminating: boolean;
}

describe('dashboard', () => {
  let cluster: TestCluster;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];

  /** The hello pods the page shows, with the node box each sits in. */
  const pagePods = (): Promise<PodRow[]> =>
    page.$$eval('.node .pod', (els) =>
      els
        .filter((e) => (e as HTMLElement).dataset.pod?.startsWith('default/hello-'))
        .map((e) => {
          const el = e as HTMLElement;
          return {
            name: el.dataset.pod!.slice('default/'.length),
            node: el.closest('.node').dataset.node!,
            tag: el.dataset.tag!,
            terminating: el.dataset.status === 'Terminating',
          };
        }),
    );

  const kubectlPods = async (): Promise<{ name: string; node: string; deleting: boolean; tag: string }[]> => {
    const list = await cluster.getJson<{ items: any[] }>(['get', 'pods', '-l', 'app=hello']);
    return list.items.map((p) => ({
      name: p.metadata.name,
      node: p.spec.nodeName ?? '',
      deleting: !!p.metadata.deletionTimestamp,
      tag: String(p.spec.containers[0].image).split(':')[1],
    }));
  };

  let browser: Browser;
  let dashboardCommand: ChildProcess | undefined;
  let dashboardUrl = '';

  beforeAll(async () => {
    ensureChromium();
    cluster = await upCluster({ nodes: 3 });
    ({ child: dashboardCommand, url: dashboardUrl } = await startDashboardCommand(cluster));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    // no ignoreHTTPSErrors: the URL must open as a user's browser opens it
    context = await browser.newContext({ viewport: { width: 1500, height: 950 } });
    page = await context.newPage();
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
    });
    await page.goto(dashboardUrl);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (dashboardCommand?.pid && alive(dashboardCommand.pid)) {
      const exited = new Promise((resolve) => dashboardCommand!.once('exit', resolve));
      dashboardCommand.kill('SIGINT');
      await exited;
    }
    await cluster?.down();
  });

  it('opens from `kubemu dashboard` on plain http://127.0.0.1 with no certificate warning and no token', async () => {
    expect(dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dashboard\/$/);
    await page.waitForFunction(() => document.body.dataset.synced === 'true', undefined, { timeout: 10_000 });
    expect(await page.locator('#login').isHidden()).toBe(true);
    expect(page.url()).toBe(dashboardUrl);
    // the apiserver's own URL is what a browser without the cluster CA refuses
    const direct = await context.newPage();
    try {
      const apiServer = (await cluster.status()).apiServer.url!;
      await expect(direct.goto(`${apiServer}/dashboard/`)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await direct.close();
    }
  });

  it('on the apiserver URL (certificate accepted) asks for a token, refuses a bad one and drops #token from the address bar', async () => {
    const kubeconfig = parseYaml(readFileSync(cluster.kubeconfig, 'utf8'));
    const token: string = kubeconfig.users[0].user.token;
    const apiServer = (await cluster.status()).apiServer.url!;
    const accepting = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const other = await accepting.newPage();
      await other.goto(`${apiServer}/dashboard/`);
      await other.waitForSelector('#login:not([hidden])', { timeout: 5000 });
      await other.fill('#token', 'not-a-token');
      await other.click('#login button');
      await other.waitForFunction(
        () => document.querySelector('#login-error')?.textContent?.includes('not accepted'),
        undefined,
        { timeout: 5000 },
      );
      const withToken = await accepting.newPage();
      await withToken.goto(`${apiServer}/dashboard/#token=${encodeURIComponent(token)}`);
      await withToken.waitForFunction(() => document.body.dataset.synced === 'true', undefined, {
        timeout: 10_000,
      });
      expect(withToken.url()).not.toContain('token=');
    } finally {
      await accepting.close();
    }
  });

  it('lists the three nodes as Ready', async () => {
    await page.waitForFunction(() => document.body.dataset.synced === 'true', undefined, { timeout: 10_000 });
    await page.waitForFunction(
      () => document.querySelectorAll('.node[data-ready="True"]').length === 3,
      undefined,
      { timeout: 10_000 },
    );
    const nodes = await page.$$eval('.node', (els) => els.map((e) => (e as HTMLElement).dataset.node));
    expect(nodes).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('shows the control plane: the apiserver renewing its identity Lease (SQLite: no etcd members)', async () => {
    await page.waitForFunction(
      () => document.querySelector('.cp[data-role="apiserver"]')?.getAttribute('data-state') === 'renewing',
      undefined,
      { timeout: 15_000 },
    );
    const rows = await page.$$eval('#control-plane .cp', (els) =>
      els.map((e) => [(e as HTMLElement).dataset.role, e.querySelector('.name')?.textContent]),
    );
    // one apiserver, named by its host as upstream's identity Lease labels it; nothing of etcd, no elected leaders
    expect(rows).toEqual([['apiserver', hostname()]]);
  });

  it('shows a new Deployment with its pods on the nodes they were bound to, within a second', async () => {
    const applied = await cluster.kubectl(['apply', '-f', '-'], { input: DEPLOYMENT('v1') });
    expect(applied.code, applied.stderr).toBe(0);
    const bound = await cluster.waitFor('3 hello pods bound', async () => {
      const pods = await kubectlPods();
      return pods.length === 3 && pods.every((p) => p.node) && pods;
    });
    const expected = Object.fromEntries(bound.map((p) => [p.name, p.node]));
    await page.waitForFunction(
      (want) => {
        const seen: Record<string, string> = {};
        for (const el of document.querySelectorAll('.node .pod')) {
          const key = el.dataset.pod!;
          if (key.startsWith('default/hello-')) seen[key.slice(8)] = el.closest('.node')!.dataset.node!;
        }
        return JSON.stringify(Object.entries(seen).sort()) === JSON.stringify(Object.entries(want).sort());
      },
      expected,
      { timeout: 1000 },
    );
    await page.waitForSelector('.deployment[data-deployment="default/hello"]', { timeout: 1000 });
    const rows = await pagePods();
    expect(rows.every((r) => r.tag === 'v1')).toBe(true);
    // once ready, the Deployment row says so
    await page.waitForFunction(
      () =>
        document
          .querySelector('.deployment[data-deployment="default/hello"] .ready')
          ?.textContent?.startsWith('3/3 ready'),
      undefined,
      { timeout: 30_000 },
    );
  });

  it('shows a Service with its type, ClusterIP and the endpoints kubectl lists', async () => {
    const r = await cluster.kubectl([
      'expose',
      'deployment',
      'hello',
      '--port',
      '80',
      '--target-port',
      '8080',
      '--type',
      'NodePort',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const svc = await cluster.getJson(['get', 'service', 'hello']);
    const endpoints = await cluster.waitFor('3 endpoints', async () => {
      const ep = await cluster.getJson(['get', 'endpoints', 'hello']);
      const ips: string[] = (ep.subsets ?? []).flatMap((s: any) =>
        (s.addresses ?? []).map((a: any) => `${a.ip}:8080`),
      );
      return ips.length === 3 && ips.sort();
    });
    const row = page.locator('.service[data-service="default/hello"]');
    await expect
      .poll(() => row.locator('.eps').textContent(), { timeout: 3000 })
      .toBe(`endpoints: ${endpoints.join(' ')}`);
    const addr = await row.locator('.addr').textContent();
    expect(addr).toBe(`${svc.spec.clusterIP} 80:${svc.spec.ports[0].nodePort}/TCP`);
    expect(await row.locator('.badge').textContent()).toBe('NodePort');
  });

  it('opens a pod: its details and its log stream', async () => {
    const [first] = await pagePods();
    await page.click(`.pod[data-pod="default/${first.name}"]`);
    await page.waitForSelector(`#detail[data-pod="default/${first.name}"]:not([hidden])`);
    await page.waitForFunction(
      () => /hello v1 listening on/.test(document.querySelector('#log')?.textContent ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    const fields = await page.locator('#detail-fields').textContent();
    expect(fields).toContain(first.node);
    expect(await page.locator('#log-state').textContent()).toBe('following');
    await page.click('#detail-close');
    expect(await page.locator('#detail').isHidden()).toBe(true);
  });

  it("picks a pod's container for its log: the first by default, the second and the init container on demand", async () => {
    const applied = await cluster.kubectl(['apply', '-f', '-'], { input: COUNTER_POD });
    expect(applied.code, applied.stderr).toBe(0);
    await cluster.waitFor('counter Running', async () => {
      const pod = await cluster.getJson(['get', 'pod', 'counter']);
      return (
        pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((c: any) => c.ready)
      );
    });
    // what kubectl shows for the sidecar, so the page is compared with the real thing
    await cluster.waitFor('2 lines in kubectl logs -c count-log-1', async () => {
      const log = await cluster.kubectl(['logs', 'counter', '-c', 'count-log-1']);
      if (!/^0: .+\n1: /m.test(log.stdout)) throw new Error(`kubectl logs: ${log.stdout}${log.stderr}`);
      return true;
    });
    const logRequests: string[] = [];
    page.on('request', (r) => void logRequests.push(r.url()));
    await page.click('.pod[data-pod="default/counter"]');
    await page.waitForSelector('#detail[data-pod="default/counter"]:not([hidden])');
    const options = () =>
      page.$$eval('#log-container option', (els) => els.map((e) => `${e.value}=${e.textContent}`));
    await expect
      .poll(options, { timeout: 3000 })
      .toEqual(['init=init (init)', 'count=count', 'count-log-1=count-log-1']);
    expect(await page.locator('#log-container').inputValue()).toBe('count');
    // the log the pane asked for names the container (without it the apiserver says one must be specified)
    await expect
      .poll(
        () =>
          logRequests.some(
            (u) => u.includes('/pods/counter/log?') && new URL(u).searchParams.get('container') === 'count',
          ),
        { timeout: 5000 },
      )
      .toBe(true);
    expect(await page.locator('#log-state').textContent()).not.toMatch(/must be specified/);

    await page.selectOption('#log-container', 'count-log-1');
    await page.waitForFunction(
      () => /^0: .+\n1: /m.test(document.querySelector('#log')?.textContent ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.locator('#log-state').textContent()).toBe('following');

    await page.selectOption('#log-container', 'init');
    await page.waitForFunction(
      () => document.querySelector('#log')?.textContent === 'init ran\n',
      undefined,
      {
        timeout: 10_000,
      },
    );
    await page.click('#detail-close');

    // kubectl's default-container annotation picks the container the pane opens with
    const annotated = await cluster.kubectl([
      'annotate',
      'pod',
      'counter',
      'kubectl.kubernetes.io/default-container=count-log-1',
    ]);
    expect(annotated.code, annotated.stderr).toBe(0);
    await expect
      .poll(
        async () => {
          await page.click('.pod[data-pod="default/counter"]');
          const picked = await page.locator('#log-container').inputValue();
          await page.click('#detail-close');
          return picked;
        },
        { timeout: 5000 },
      )
      .toBe('count-log-1');
    const deleted = await cluster.kubectl(['delete', 'pod', 'counter', '--wait=false']);
    expect(deleted.code, deleted.stderr).toBe(0);
  });

  it('shows old and new tags side by side during a rolling update', async () => {
    const r = await cluster.kubectl(['set', 'image', 'deployment/hello', 'hello=kubemu/hello:v2']);
    expect(r.code, r.stderr).toBe(0);
    // both tags in node boxes at one moment, and in the Deployment's revisions
    await page.waitForFunction(
      () =>
        document.querySelector('.node .pod[data-tag="v1"]') &&
        document.querySelector('.node .pod[data-tag="v2"]'),
      undefined,
      { timeout: 15_000, polling: 'raf' },
    );
    await page.waitForFunction(
      () =>
        /v2 ×\d.*v1 ×\d/.test(
          document.querySelector('.deployment[data-deployment="default/hello"] .revs')?.textContent ?? '',
        ),
      undefined,
      { timeout: 15_000 },
    );
    await cluster.waitFor(
      'rollout done',
      async () => {
        const pods = await kubectlPods();
        return pods.length === 3 && pods.every((p) => p.tag === 'v2' && !p.deleting);
      },
      60_000,
    );
    await expect
      .poll(async () => (await pagePods()).map((p) => p.tag).join(','), { timeout: 3000 })
      .toBe('v2,v2,v2');
  });

  it('turns a stopped node NotReady and shows its pods moving to the other nodes', async () => {
    const pods = await kubectlPods();
    const victim = pods[0].node;
    const status = await cluster.status();
    const kubelet = status.processes.find((p) => p.name === `kubelet-${victim}`);
    expect(kubelet, `kubelet-${victim} in ${JSON.stringify(status.processes)}`).toBeDefined();
    // SIGSTOP rather than SIGKILL: pm2 would restart a killed kubelet before the node could go NotReady
    process.kill(kubelet!.pid, 'SIGSTOP');
    try {
      await page.waitForFunction(
        (n) => document.querySelector(`.node[data-node="${n}"]`)?.dataset.ready !== 'True',
        victim,
        { timeout: 20_000 },
      );
      expect(await page.locator(`.node[data-node="${victim}"] .node-ready`).textContent()).toMatch(
        /NotReady|Unknown/,
      );
      const moved = await cluster.waitFor(
        '3 live hello pods on other nodes',
        async () => {
          const now = await kubectlPods();
          const live = now.filter((p) => !p.deleting);
          return live.length === 3 && live.every((p) => p.node && p.node !== victim) && live;
        },
        60_000,
      );
      await expect
        .poll(
          async () =>
            (await pagePods())
              .filter((p) => !p.terminating)
              .map((p) => `${p.name}@${p.node}`)
              .sort(),
          { timeout: 3000 },
        )
        .toEqual(moved.map((p) => `${p.name}@${p.node}`).sort());
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);
    } finally {
      process.kill(kubelet!.pid, 'SIGCONT');
    }
    await page.waitForFunction(
      (n) => document.querySelector(`.node[data-node="${n}"]`)?.dataset.ready === 'True',
      victim,
      { timeout: 30_000 },
    );
  });

  it('logged no errors in the page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
