import { describe, expect, it } from 'vitest';
import type { NetnsRecord } from '../cli/cluster/network.js';
import { ChaosError } from './chaos.js';
import { NetworkChaos, parseRules, partitionScript } from './partition.js';

const record: NetnsRecord = {
  slot: 0,
  rootless: false,
  sandboxPid: 100,
  nodePids: { 'node-1': 101, 'node-2': 102 },
  gateway: '127.0.1.254',
  lbPool: '127.0.2.0/24',
  ingress: { http: 'http://127.0.3.1', https: 'https://127.0.3.1' },
};

describe('partitionScript', () => {
  it('drops what crosses the uplink to or from the peer, in all three hooks, labelled with the peer', () => {
    const script = partitionScript({ kind: 'node', node: 'node-2' }, ['127.0.1.2', '10.244.2.0/24']);
    expect(script).toContain(
      'add rule inet kubemu-chaos input iifname "eth0" ip saddr { 127.0.1.2, 10.244.2.0/24 } drop comment "from node-2"',
    );
    expect(script).toContain('add rule inet kubemu-chaos output oifname "eth0" ip daddr');
    expect(script.match(/add rule inet kubemu-chaos forward /g)).toHaveLength(2);
  });
  it('cuts the whole uplink when cut from everything', () => {
    const script = partitionScript({ kind: 'all' }, []);
    expect(script).toContain('add rule inet kubemu-chaos input iifname "eth0" drop comment "from all"');
    expect(script).not.toContain('saddr');
  });
});

describe('parseRules', () => {
  it('reads chain, handle and comment from nft -j -a output', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: {} },
        { table: { family: 'inet', name: 'kubemu-chaos', handle: 1 } },
        { rule: { chain: 'input', handle: 4, comment: 'from control-plane', expr: [] } },
      ],
    });
    expect(parseRules(json)).toEqual([{ chain: 'input', handle: 4, comment: 'from control-plane' }]);
  });
});

describe('NetworkChaos', () => {
  const fake = () => {
    const calls: string[] = [];
    const tables = new Map<number, string>();
    const run = (argv: string[], input = ''): Promise<string> => {
      const pid = Number(argv[argv.indexOf('--target') + 1]);
      calls.push(`${pid}: ${argv.slice(argv.indexOf('nft')).join(' ')}`);
      if (argv.includes('list')) {
        const t = tables.get(pid);
        if (!t) return Promise.reject(new Error('Error: No such file or directory'));
        return Promise.resolve(t);
      }
      if (argv.includes('route')) {
        const n = pid - 100;
        return Promise.resolve(
          JSON.stringify([
            { dst: '127.0.1.0/24', dev: 'eth0', prefsrc: `127.0.1.${n}` },
            { dst: `10.244.${n}.0/24`, dev: 'cni0', prefsrc: `10.244.${n}.1` },
          ]),
        );
      }
      if (input.includes('drop')) {
        const comment = /comment "([^"]+)"/.exec(input)![1];
        tables.set(pid, JSON.stringify({ nftables: [{ rule: { chain: 'input', handle: 3, comment } }] }));
      }
      if (argv.includes('delete')) tables.delete(pid);
      return Promise.resolve('');
    };
    return { calls, tables, run };
  };

  it('refuses unknown nodes and peers, and a node cut from itself', () => {
    const chaos = new NetworkChaos(record);
    expect(() => chaos.peerOf('node-9', undefined)).toThrow(
      /no node "node-9" in this cluster \(nodes: node-1, node-2\)/,
    );
    expect(() => chaos.peerOf('node-1', 'node-1')).toThrow(ChaosError);
    expect(() => chaos.peerOf('node-1', 'etcd')).toThrow(/expected control-plane or another node/);
    expect(chaos.peerOf('node-1', undefined)).toEqual({ kind: 'all' });
  });

  it('partitions once, says so the second time, and heal finds the cut by its peer', async () => {
    const f = fake();
    const chaos = new NetworkChaos(record, undefined, f.run);
    const [first] = await chaos.partition('node-1', { kind: 'node', node: 'node-2' });
    expect(first).toMatch(/^partitioned node-1 from node-2 /);
    expect(await chaos.partition('node-1', { kind: 'node', node: 'node-2' })).toEqual([
      'node-1 is already partitioned from node-2',
    ]);
    f.calls.length = 0;
    expect(await chaos.heal('node-2')).toEqual(['healed node-1 (was partitioned from node-2)']);
    // node-1's rule named node-2 is deleted by its handle; node-2 had no table
    expect(f.calls).toContain('101: nft -f -');
    f.tables.clear();
    expect(await chaos.heal()).toEqual(['no node is partitioned']);
  });
});
