import { describe, expect, it } from 'vitest';
import { decodeContinue, encodeContinue } from './continue-token.js';

const PREFIX = '/registry/configmaps/default/';
const token = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

function rejection(t: string): string {
  try {
    decodeContinue(t, PREFIX);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('continue tokens', () => {
  it('round-trip the key relative to the list prefix, as upstream encodes it', () => {
    const t = encodeContinue(`${PREFIX}web`, PREFIX, 42);
    expect(JSON.parse(Buffer.from(t, 'base64url').toString())).toEqual({
      v: 'meta.k8s.io/v1',
      rv: 42,
      start: 'web',
    });
    expect(decodeContinue(t, PREFIX)).toEqual({ startAfter: `${PREFIX}web`, rv: 42 });
  });

  it.each([
    ['junk!', 'continue key is not valid: illegal base64 data at input byte 4'],
    ['abcde', 'continue key is not valid: illegal base64 data at input byte 4'],
    [
      token('x'),
      'continue key is not valid: json: cannot unmarshal string into Go value of type storage.continueToken',
    ],
    [
      token({ v: 'meta.k8s.io/v1', start: 'a' }),
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    ],
    [
      token({ v: 'meta.k8s.io/v1', rv: 1 }),
      'continue key is not valid: encoded start key empty (version meta.k8s.io/v1)',
    ],
    [
      token({ rv: 1, start: 'a' }),
      'continue key is not valid: server does not recognize this encoded version ',
    ],
    [
      token({ v: 'meta.k8s.io/v1', rv: 1, start: '../kube-system/x' }),
      'continue key is not valid: ../kube-system/x',
    ],
    [token({ v: 'meta.k8s.io/v1', rv: 1, start: 'a/./b' }), 'continue key is not valid: a/./b'],
    [
      token({ v: 'meta.k8s.io/v1', rv: 'x', start: 'a' }),
      'continue key is not valid: json: cannot unmarshal string into Go struct field continueToken.rv of type int64',
    ],
  ])('%s → 400 %s', (t, message) => {
    expect(rejection(t)).toBe(`invalid continue token: ${message}`);
  });
});
