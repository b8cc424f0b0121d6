// The pod network's building blocks (src/netns): a cluster sandbox, two nodes, pods on them, host publishing and a
// second cluster with the same addresses, run as root and as an unprivileged user, with the same results.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, ROOT } from './helpers/apiserver.js';
import { asUser, createTestUser, type TestUser } from './helpers/test-user.js';
import { ensureCommands } from './helpers/tools.js';

const SCENARIO = join(ROOT, 'test', 'netns', 'scenario.mjs');

type Results = Record<string, unknown>;

function runScenario(user: TestUser | undefined): Promise<Results> {
  const { file, args, cwd } = asUser(user, [process.execPath, SCENARIO, DIST]);
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: 170_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as Results);
      } catch {
        reject(
          new Error(
            `scenario ${user ? `as ${user.name}` : 'as root'} gave no result: ${err?.message}\n${stderr}`,
          ),
        );
      }
    });
  });
}

// What a user of each cluster sees, whoever runs it.
const EXPECTED = {
  sandboxNetnsDiffersFromHost: true,
  hostname: 'web-a',
  nodeHostname: 'node-2',
  podToPodSameNode: 'web-b',
  podToPodOtherNode: 'web-c',
  podToOwnLocalhost: 'web-a',
  podToOwnIpv6Loopback: 'web-b',
  podToOtherNodeAddress: 'node-2',
  podToControlPlane: 'control-plane',
  nodeToPod: 'web-c',
  podBindsPort80: 'web-c:80',
  hostToPublishedNodePort: 'node-2',
  hostToPublishedPod: 'web-c',
  hostAfterUnpublish: 'refused',
  forwarderGoneAfterClose: true,
  secondClusterSameIp: 'cluster-b web-a',
  firstClusterSameIp: 'web-a',
  hostNetworkUnchanged: true,
  kubeletPodAnswers: 'orphan',
  pauseGoneAfterKubeletSigkill: true,
  containerGoneAfterKubeletSigkill: true,
  vethGoneAfterKubeletSigkill: true,
  holdersGone: true,
  leftBehind: [],
};

describe('network namespaces: sandbox, nodes, pods, publishing', () => {
  let user: TestUser | undefined;
  const seen: Results[] = [];

  beforeAll(() => {
    ensureCommands([
      ['unshare', 'util-linux'],
      ['nsenter', 'util-linux'],
      ['setpriv', 'util-linux'],
      ['ip', 'iproute2'],
      ['curl', 'curl'],
    ]);
    user = createTestUser('kubemu-netns-test');
  });

  afterAll(() => user?.remove());

  it('as root: every pod its own network, reachable across nodes, published to the host, nothing left behind', async () => {
    const results = await runScenario(undefined);
    expect(results.error).toBeUndefined();
    expect(results).toMatchObject({ ...EXPECTED, rootless: false, publishPrivilegedPort: 'published' });
    seen.push(results);
  }, 180_000);

  it('as an unprivileged user (user + network namespace): the same', async () => {
    const results = await runScenario(user);
    expect(results.error).toBeUndefined();
    expect(results).toMatchObject({
      ...EXPECTED,
      uid: user?.uid,
      rootless: true,
      // the host side is the user's: a port below 1024 is refused, saying why
      publishPrivilegedPort: 'refused: below 1024',
    });
    seen.push(results);
  }, 180_000);
});
