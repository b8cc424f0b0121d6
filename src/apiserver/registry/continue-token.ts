// List continue tokens as upstream's storage encodes them (staging/src/k8s.io/apiserver/pkg/storage/continue.go):
// base64url (unpadded) JSON {"v":"meta.k8s.io/v1","rv":N,"start":"<key relative to the list's prefix>"}.
import { posix } from 'node:path';
import { errors } from '../../api/errors.js';
import { jsonTypeWord } from '../../api/patch/go-format.js';
import { goUnmarshalMapError } from '../../api/validation/go-json.js';

const VERSION = 'meta.k8s.io/v1';
const GENERIC = 'continue key is not valid';

/** The token for a list that stopped after `key` (a storage key under `keyPrefix`) at resourceVersion `rv`. */
export function encodeContinue(key: string, keyPrefix: string, rv: number): string {
  if (!key.startsWith(keyPrefix) || key === keyPrefix) {
    throw new Error(`unable to encode next field: the key and key prefix do not match ${keyPrefix} ${key}`);
  }
  const token = { v: VERSION, rv, start: key.slice(keyPrefix.length) };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/**
 * The storage key a continued list starts after, and the resourceVersion of its first page. A token that is not
 * one of ours, or that points outside `keyPrefix` (`../`), is upstream's 400 `invalid continue token: ...`.
 */
export function decodeContinue(token: string, keyPrefix: string): { startAfter: string; rv: number } {
  const invalid = (why: string): Error => errors.badRequest(`invalid continue token: ${why}`);
  const badByte = base64urlError(token);
  if (badByte !== undefined) throw invalid(`${GENERIC}: illegal base64 data at input byte ${badByte}`);
  const data = Buffer.from(token, 'base64url');
  const syntax = goUnmarshalMapError(data);
  if (syntax !== undefined) {
    throw invalid(`${GENERIC}: ${syntax.replace('map[string]interface {}', 'storage.continueToken')}`);
  }
  const parsed = (JSON.parse(data.toString('utf8')) ?? {}) as Record<string, unknown>;
  const v = typeof parsed['v'] === 'string' ? parsed['v'] : '';
  const rv = parsed['rv'];
  const start = parsed['start'];
  if (v !== VERSION) throw invalid(`${GENERIC}: server does not recognize this encoded version ${v}`);
  if (rv !== undefined && rv !== null && !Number.isSafeInteger(rv)) {
    const what = typeof rv === 'number' ? `number ${rv}` : jsonTypeWord(rv);
    throw invalid(
      `${GENERIC}: json: cannot unmarshal ${what} into Go struct field continueToken.rv of type int64`,
    );
  }
  if (start !== undefined && start !== null && typeof start !== 'string') {
    const what = jsonTypeWord(start);
    throw invalid(
      `${GENERIC}: json: cannot unmarshal ${what} into Go struct field continueToken.start of type string`,
    );
  }
  if (!rv) throw invalid(`${GENERIC}: incorrect encoded start resourceVersion (version ${VERSION})`);
  if (!start) throw invalid(`${GENERIC}: encoded start key empty (version ${VERSION})`);
  // path.Clean keeps a client from ranging outside the list it continues
  const key = start.startsWith('/') ? start : `/${start}`;
  if (posix.normalize(key) !== key || (key.length > 1 && key.endsWith('/')))
    throw invalid(`${GENERIC}: ${start}`);
  return { startAfter: keyPrefix + key.slice(1), rv: rv as number };
}

/** where Go's base64.RawURLEncoding would stop decoding `s`, or undefined when it decodes */
function base64urlError(s: string): number | undefined {
  const bad = s.search(/[^A-Za-z0-9_-]/);
  if (bad >= 0) return bad;
  if (s.length % 4 === 1) return s.length - 1;
  return undefined;
}
