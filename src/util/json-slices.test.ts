import { describe, expect, it } from 'vitest';
import {
  decodeChunks,
  encodeChunks,
  isJsonSafe,
  Slicer,
  stringifyInSlices,
  textOfChunks,
} from './json-slices.js';

/** a 30,000-key map inside an object with managedFields-like nesting, and odd keys and values among them */
function bigValue(): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (let i = 0; i < 30_000; i++) data[`key-${i}`] = `v${i}-abcdefghijklmnop`;
  Object.defineProperty(data, '__proto__', {
    value: 'own',
    enumerable: true,
    configurable: true,
    writable: true,
  });
  data['7'] = 'an integer-like key';
  data['undef'] = undefined;
  data['fn'] = () => 1;
  data['date'] = new Date(0);
  data['nan'] = NaN;
  data['negzero'] = -0;
  data['nested'] = { small: [1, undefined, 'x'], big: Array.from({ length: 3000 }, (_, i) => ({ i })) };
  const fields: Record<string, unknown> = {};
  for (let i = 0; i < 5000; i++) fields[`f:key-${i}`] = {};
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'big', managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:data': fields } }] },
    data,
    list: Array.from({ length: 2500 }, (_, i) => (i % 3 === 0 ? undefined : i)),
  };
}

describe('json-slices', () => {
  it('assembles exactly the text JSON.stringify gives, and rebuilds exactly what JSON.parse gives', async () => {
    const value = bigValue();
    const chunks = (await encodeChunks(value, new Slicer(1)))!;
    expect(chunks.length).toBeGreaterThan(10);
    const text = await textOfChunks(chunks, new Slicer(1));
    expect(text).toBe(JSON.stringify(value));
    const rebuilt = await decodeChunks(chunks, new Slicer(1));
    expect(rebuilt).toStrictEqual(JSON.parse(JSON.stringify(value)));
    // key order too, integer-like keys first as everywhere, and __proto__ an own key, not the prototype
    const data = (rebuilt as { data: Record<string, unknown> }).data;
    expect(Object.keys(data)).toEqual(Object.keys(JSON.parse(JSON.stringify(value.data)) as object));
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(data, '__proto__')).toBe(true);
  });

  it('gives what JSON.stringify gives for small values and top-level oddities', async () => {
    for (const v of [null, 1, 'x', true, [], {}, [undefined], { a: undefined }, new Date(5), NaN]) {
      expect(await stringifyInSlices(v)).toBe(JSON.stringify(v));
    }
    expect(await stringifyInSlices(undefined)).toBeUndefined();
    expect(await encodeChunks(() => 1)).toBeUndefined();
  });

  it('throws as JSON.stringify does on a big value that contains itself', async () => {
    const cyclic: Record<string, unknown> = {};
    for (let i = 0; i < 2000; i++) cyclic[`k${i}`] = i;
    cyclic['self'] = cyclic;
    await expect(encodeChunks(cyclic)).rejects.toThrow(/circular/);
  });

  it('tells which values survive a JSON round trip unchanged', async () => {
    expect(await isJsonSafe({ a: [1, 'x', null, true, { b: 2.5 }] })).toBe(true);
    for (const v of [
      { a: undefined },
      [1, , 3], // eslint-disable-line no-sparse-arrays
      { n: NaN },
      { n: -0 },
      { d: new Date(0) },
      { f: () => 1 },
      { n: 10n },
    ])
      expect(await isJsonSafe(v)).toBe(false);
    const shared = { x: 1 };
    expect(await isJsonSafe({ a: shared, b: shared })).toBe(false);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(await isJsonSafe(cyclic)).toBe(false);
  });

  it('hands the event loop back while it works on a big value', async () => {
    const value = bigValue();
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      const chunks = (await encodeChunks(value, new Slicer(1)))!;
      await decodeChunks(chunks, new Slicer(1));
    } finally {
      clearInterval(ticker);
    }
    expect(turns).toBeGreaterThan(2);
  });
});
