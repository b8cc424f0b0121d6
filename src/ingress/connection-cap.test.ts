import { describe, expect, it } from 'vitest';
import { defaultMaxConnections } from './gateway.js';

describe("the gateway's default connection cap", () => {
  it("is ingress-nginx's 16,384, lower when the open-file limit leaves less room", () => {
    expect(defaultMaxConnections(undefined)).toBe(16_384);
    expect(defaultMaxConnections(1_048_576)).toBe(16_384);
    expect(defaultMaxConnections(20_000)).toBe(9_872);
    expect(defaultMaxConnections(1_024)).toBe(384);
    expect(defaultMaxConnections(100)).toBe(16);
  });
});
