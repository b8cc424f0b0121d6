import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  findSubordinateIds,
  findSubordinateRange,
  isMapped,
  outerId,
  userNamespaceArgs,
  type IdMapping,
} from './id-map.js';

const work = mkdtempSync(join(tmpdir(), 'kubemu-id-map-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('subordinate ids', () => {
  it("finds the user's first range by name or uid, skipping comments, others' and broken lines", () => {
    const text = '# comment\nalice:100000:65536\nbob:x:1\nbob:0:10\n1001:200000:1000\nbob:300000:65536\n';
    expect(findSubordinateRange(text, 'alice', 1000)).toEqual({ start: 100000, count: 65536 });
    expect(findSubordinateRange(text, 'carol', 1001)).toEqual({ start: 200000, count: 1000 });
    expect(findSubordinateRange(text, 'bob', 1002)).toEqual({ start: 300000, count: 65536 });
    expect(findSubordinateRange(text, 'dave', 1003)).toBeUndefined();
  });

  it('says why there are none: no uid range, no gid range', () => {
    const subuid = join(work, 'subuid');
    const subgid = join(work, 'subgid');
    writeFileSync(subuid, 'alice:100000:65536\n');
    writeFileSync(subgid, '');
    const alice = { name: 'alice', uid: 1000, gid: 1000 };
    expect(findSubordinateIds({ ...alice, name: 'bob', uid: 1001 }, { subuid, subgid })).toEqual({
      why: `no subordinate uids for bob in ${subuid}`,
    });
    expect(findSubordinateIds(alice, { subuid, subgid })).toEqual({
      why: `no subordinate gids for alice in ${subgid}`,
    });
    expect(findSubordinateIds(alice, { subuid, subgid: join(work, 'missing') })).toEqual({
      why: `no subordinate gids for alice in ${join(work, 'missing')}`,
    });
  });

  it("maps 0 to the kubelet's user and 1..count to the range, in util-linux 2.38's order", () => {
    const ids = { uid: { start: 100000, count: 65536 }, gid: { start: 200000, count: 1000 } };
    expect(userNamespaceArgs(undefined)).toEqual(['--user', '--map-root-user']);
    expect(userNamespaceArgs(ids)).toEqual([
      '--user',
      '--map-root-user',
      '--map-users=100000,1,65536',
      '--map-groups=200000,1,1000',
    ]);
    const m: IdMapping = { kind: 'subordinate', user: 'alice', ids };
    const self = { name: 'alice', uid: 1000, gid: 1001 };
    expect(isMapped(m, 'uid', 65536)).toBe(true);
    expect(isMapped(m, 'uid', 65537)).toBe(false);
    expect(isMapped(m, 'gid', 1001)).toBe(false);
    expect(outerId(m, 'uid', 0, self)).toBe(1000);
    expect(outerId(m, 'gid', 0, self)).toBe(1001);
    expect(outerId(m, 'uid', 1000, self)).toBe(100999);
    expect(outerId(m, 'gid', 1000, self)).toBe(200999);
    expect(outerId(m, 'gid', 1001, self)).toBeUndefined();
  });

  it('a single id is the only one; the host has them all', () => {
    const single: IdMapping = { kind: 'single', user: 'nobody', uid: 65534, gid: 65534, why: 'no userns' };
    expect(isMapped(single, 'uid', 65534)).toBe(true);
    expect(isMapped(single, 'uid', 0)).toBe(false);
    expect(isMapped({ ...single, uid: 0, gid: 0 }, 'uid', 0)).toBe(true);
    expect(isMapped({ kind: 'host' }, 'uid', 123456)).toBe(true);
  });
});
