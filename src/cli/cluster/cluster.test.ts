import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTokenFile, tokenFilePath } from '../../apiserver/auth/token-file.js';
import { readKubeconfig } from '../../util/kubeconfig.js';
import { COMPONENTS, planComponents } from './components.js';
import { defaultStateDir, nodeLayout, userKubeconfigPath } from './layout.js';
import { compactLogLine } from './log-lines.js';
import { Progress } from './progress.js';
import { netnsNodeLayout, type NetnsRecord } from './network.js';

describe('layout', () => {
  it('places node N on 127.0.1.N with pods in 127.244.N.0/24', () => {
    expect(nodeLayout('/s', 2)).toEqual({
      name: 'node-2',
      ip: '127.0.1.2',
      podCidr: '127.244.2.0/24',
      rootDir: '/s/nodes/node-2',
    });
    expect(defaultStateDir('demo', '/home/u')).toBe('/home/u/.kubemu/demo');
  });

  it('picks the kubeconfig as kubectl does: flag, then $KUBECONFIG first entry, then ~/.kube/config', () => {
    expect(userKubeconfigPath('/x/cfg', { KUBECONFIG: '/a:/b' }, '/h')).toBe('/x/cfg');
    expect(userKubeconfigPath(undefined, { KUBECONFIG: ':/a:/b' }, '/h')).toBe('/a');
    expect(userKubeconfigPath(undefined, {}, '/h')).toBe('/h/.kube/config');
  });
});

describe('planComponents', () => {
  it('gives each component its own token and kubeconfig, node components the node identity', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'kubemu-plan-'));
    try {
      const nodes = [nodeLayout(stateDir, 1), nodeLayout(stateDir, 2)];
      const planned = planComponents(
        {
          name: 'p',
          stateDir,
          apiServerUrl: 'https://127.0.0.1:7443',
          port: 7443,
          kubeletPort: 10250,
          nodes,
          cpu: '2',
          memory: '4Gi',
        },
        '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
      );
      const perNode = COMPONENTS.filter((k) => k.scope === 'node').length;
      const perCluster = COMPONENTS.filter((k) => k.scope === 'cluster' && !k.netnsOnly).length;
      expect(planned).toHaveLength(perCluster + 2 * perNode);
      expect(planned.some((p) => p.placement)).toBe(false);
      const kubelet2 = planned.find((p) => p.name === 'kubelet-node-2')!;
      expect(kubelet2.argv.slice(0, 1)).toEqual(['kubelet']);
      expect(kubelet2.argv).toEqual(
        expect.arrayContaining(['--node-ip', '127.0.1.2', '--pod-cidr', '127.244.2.0/24']),
      );
      const tokens = readTokenFile(tokenFilePath(stateDir));
      const kubeconfigOf = (name: string): string =>
        planned.find((p) => p.name === name)!.argv[planned[0].argv.indexOf('--kubeconfig') + 1];
      const nodeToken = readKubeconfig(kubeconfigOf('kubelet-node-2')).token;
      expect(tokens.find((t) => t.token === nodeToken)).toMatchObject({
        user: 'system:node:node-2',
        // the Node authorizer and NodeRestriction decide what it may do: no system:masters
        groups: ['system:nodes'],
      });
      // the node's local-path provisioner runs as its ServiceAccount, with a credential of its own
      const provisionerFlag = kubelet2.argv.indexOf('--local-path-provisioner-kubeconfig');
      expect(provisionerFlag).toBeGreaterThan(0);
      const provisioner = readKubeconfig(kubelet2.argv[provisionerFlag + 1]);
      expect(provisioner.server).toBe('https://127.0.0.1:7443');
      expect(tokens.find((t) => t.token === provisioner.token)).toMatchObject({
        user: 'system:serviceaccount:kube-system:local-path-provisioner-service-account',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system'],
      });
      const scheduler = readKubeconfig(kubeconfigOf('scheduler'));
      expect(scheduler.server).toBe('https://127.0.0.1:7443');
      // upstream's scheduler identity, nothing more: RBAC's system:kube-scheduler role is what it may do
      expect(tokens.find((t) => t.token === scheduler.token)).toMatchObject({
        user: 'system:kube-scheduler',
        groups: [],
      });
      // the add-on components: their own roles (kubemu-policy.ts), no system:masters
      for (const [component, user] of [
        ['ingress', 'system:kube-ingress'],
        ['dns', 'system:serviceaccount:kube-system:coredns'],
        ['cloud-lb', 'system:cloud-controller-manager'],
      ] as const)
        expect(tokens.find((t) => t.token === readKubeconfig(kubeconfigOf(component)).token)).toMatchObject({
          user,
          groups: [],
        });
      // JSON (which is YAML, for kubectl): a component reads it without loading a YAML parser
      expect(JSON.parse(readFileSync(kubeconfigOf('scheduler'), 'utf8'))['current-context']).toBe('kubemu-p');
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('planComponents --network=netns', () => {
  it('places each component (host, sandbox, node), points it at the apiserver it can reach, in-cluster ranges', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'kubemu-plan-'));
    try {
      const nodes = [netnsNodeLayout(stateDir, 1, 1), netnsNodeLayout(stateDir, 2, 1)];
      const netns: NetnsRecord = {
        slot: 1,
        rootless: true,
        sandboxPid: 4242,
        nodePids: { 'node-1': 4243, 'node-2': 4244 },
        gateway: '127.1.1.254',
        lbPool: '127.1.2.0/24',
        ingress: { http: 'http://127.1.3.1:8080', https: 'https://127.1.3.1:8443' },
      };
      const planned = planComponents(
        {
          name: 'p',
          stateDir,
          apiServerUrl: 'https://127.1.0.1:7443',
          innerApiServerUrl: 'https://127.1.1.254:7443',
          port: 7443,
          kubeletPort: 10250,
          nodes,
          cpu: '2',
          memory: '4Gi',
          netns,
        },
        '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
      );
      const byName = (name: string) => planned.find((p) => p.name === name)!;
      const server = (name: string): string => {
        const argv = byName(name).argv;
        return readKubeconfig(argv[argv.indexOf('--kubeconfig') + 1]).server;
      };
      expect(byName('netns-publisher').placement).toEqual({ in: 'host' });
      expect(byName('cloud-lb').placement).toEqual({ in: 'host' });
      expect(byName('dns').placement).toEqual({ in: 'sandbox' });
      expect(byName('kube-proxy-node-2').placement).toEqual({ in: 'node', node: 'node-2' });
      expect(server('netns-publisher')).toBe('https://127.1.0.1:7443');
      expect(server('scheduler')).toBe('https://127.1.1.254:7443');
      expect(server('kubelet-node-1')).toBe('https://127.1.1.254:7443');
      // the kubelets' provisioner credential: inside the node's namespace too
      const kubelet1 = byName('kubelet-node-1').argv;
      expect(
        readKubeconfig(kubelet1[kubelet1.indexOf('--local-path-provisioner-kubeconfig') + 1]).server,
      ).toBe('https://127.1.1.254:7443');
      expect(byName('kubelet-node-2').argv).toEqual(
        expect.arrayContaining([
          '--node-ip',
          '127.1.1.2',
          '--pod-cidr',
          '10.244.2.0/24',
          '--cluster-dns',
          '10.96.0.10',
        ]),
      );
      expect(byName('kubelet-node-2').argv.join(' ')).toContain('--pod-network netns');
      expect(byName('kube-proxy-node-1').argv.join(' ')).toContain('--proxy-mode nftables');
      expect(byName('dns').argv.join(' ')).toContain('--listen 127.1.1.254:53');
      expect(byName('cloud-lb').argv.join(' ')).toContain('--pool 127.1.2.0/24');
      expect(byName('netns-publisher').argv.join(' ')).toContain(
        '--sandbox-pid 4242 --rootless --publish 127.1.0.1:7443=127.1.1.254:7443 ' +
          '--publish 127.1.3.1:8080=127.1.1.254:80 --publish 127.1.3.1:8443=127.1.1.254:443 --node-ips 127.1.1.1,127.1.1.2',
      );
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('compactLogLine', () => {
  const line = JSON.stringify({
    level: 40,
    time: '2026-01-02T03:04:05.678Z',
    component: 'kubelet',
    pid: 1,
    msg: 'probe failed',
    pod: 'default/web',
    err: { message: 'ECONNREFUSED', stack: 'long' },
  });

  it('keeps time, process, level, message and short fields', () => {
    expect(compactLogLine('kubelet-node-1', line)).toBe(
      '03:04:05 kubelet-node-1 WARN probe failed pod=default/web err=ECONNREFUSED',
    );
  });

  it('drops lines below the level and passes non-JSON through', () => {
    expect(compactLogLine('x', line, 50)).toBeUndefined();
    expect(compactLogLine('x', 'plain text')).toBe('x plain text');
  });

  it('prints the error of an ERROR or FATAL line whole: it may say how to recover', () => {
    const why =
      'refusing to start on /s/state.db: the file is empty (0 bytes), so the cluster it held is gone. Restore state.db from a backup';
    const line = JSON.stringify({
      level: 60,
      time: '2026-01-01T12:00:01.000Z',
      msg: 'failed to start',
      err: { message: why },
    });
    expect(compactLogLine('apiserver', line)).toBe(`12:00:01 apiserver FATAL failed to start err=${why}`);
    const info = JSON.stringify({
      level: 30,
      time: '2026-01-01T12:00:01.000Z',
      msg: 'm',
      err: { message: why },
    });
    expect(compactLogLine('apiserver', info)).toContain('...');
  });
});

describe('Progress', () => {
  it('prints a plain line per change when not on a terminal', () => {
    let written = '';
    const out = {
      write: (s: string) => ((written += s), true),
      isTTY: false,
    } as unknown as NodeJS.WritableStream;
    const progress = new Progress(out);
    progress.update('apiserver', 'starting');
    progress.update('apiserver', 'starting');
    progress.update('apiserver', 'ready');
    expect(
      written
        .split('\n')
        .filter(Boolean)
        .map((l) => l.trim().split(/\s+/)),
    ).toEqual([
      ['apiserver', 'starting'],
      ['apiserver', 'ready'],
    ]);
    expect(written).not.toContain('\x1b[');
  });
});
