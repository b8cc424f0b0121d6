// nftables mode refuses to run where it would program the host's firewall, or without nft.
import { describe, expect, it } from 'vitest';
import { INIT_NETNS, nftablesUnavailable } from './nft-host.js';

const ns = (self: string | undefined, pid1: string | undefined) => (pid: 'self' | '1') =>
  pid === 'self' ? self : pid1;

describe('nftablesUnavailable', () => {
  // any program answering `--version` stands for nft here: the namespace checks are what is tested
  const nft = process.execPath;

  it("refuses the kernel's initial network namespace, even when PID 1's cannot be read", () => {
    expect(nftablesUnavailable(nft, ns(INIT_NETNS, undefined))).toMatch(
      /refusing to program nftables in the host's network namespace .*--proxy-mode=userspace/,
    );
  });

  it("refuses PID 1's namespace (a container's own)", () => {
    expect(nftablesUnavailable(nft, ns('net:[4026532001]', 'net:[4026532001]'))).toMatch(/refusing/);
  });

  it('accepts a namespace of its own', () => {
    expect(nftablesUnavailable(nft, ns('net:[4026532002]', INIT_NETNS))).toBeUndefined();
  });

  it('says how to get nft when it is missing', () => {
    expect(nftablesUnavailable('/nonexistent/nft', ns('net:[4026532002]', INIT_NETNS))).toMatch(
      /needs the nft command .*apt-get install nftables.*--proxy-mode=userspace/,
    );
  });
});
