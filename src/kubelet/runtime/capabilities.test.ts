import { describe, expect, it } from 'vitest';
import { boundingSetArg, DEFAULT_CAPABILITIES } from './capabilities.js';

const c = (securityContext?: object) => ({ name: 'c', ...(securityContext ? { securityContext } : {}) });

describe('boundingSetArg', () => {
  it("gives containerd's default set, without NET_ADMIN or SYS_ADMIN", () => {
    const arg = boundingSetArg(c())!;
    expect(arg.startsWith('--bounding-set=-all,')).toBe(true);
    expect(arg.split(',').slice(1)).toEqual(DEFAULT_CAPABILITIES.map((cap) => `+${cap.toLowerCase()}`));
    expect(arg).not.toMatch(/net_admin|sys_admin/);
    expect(arg).toContain('+net_raw');
  });
  it('adds and drops as containerd does, with or without the CAP_ prefix', () => {
    const arg = boundingSetArg(c({ capabilities: { add: ['NET_ADMIN'], drop: ['CAP_NET_RAW'] } }))!;
    expect(arg).toContain('+net_admin');
    expect(arg).not.toContain('net_raw');
    expect(boundingSetArg(c({ capabilities: { drop: ['ALL'] } }))).toBe('--bounding-set=-all');
    expect(boundingSetArg(c({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }))).toBe(
      '--bounding-set=-all,+net_bind_service',
    );
  });
  it('leaves every capability to a privileged container, or add ALL; add ALL with a drop drops only that', () => {
    expect(boundingSetArg(c({ privileged: true }))).toBeUndefined();
    expect(boundingSetArg(c({ capabilities: { add: ['ALL'] } }))).toBeUndefined();
    expect(boundingSetArg(c({ capabilities: { add: ['ALL'], drop: ['SYS_ADMIN'] } }))).toBe(
      '--bounding-set=-sys_admin',
    );
  });
});
