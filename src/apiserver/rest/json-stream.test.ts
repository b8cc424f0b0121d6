import { describe, expect, it } from 'vitest';
import { isStreamable, jsonPieces } from './json-stream.js';

const bodies: Record<string, unknown>[] = [
  { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [] },
  {
    kind: 'ConfigMapList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '7', continue: 'x' },
    items: [
      { metadata: { name: 'a', labels: { x: 'y\nz' } }, data: { k: 'v', e: '' } },
      { metadata: { name: 'b' }, data: {}, list: [1, [2, []], { n: null }] },
      undefined,
    ],
  },
  { kind: 'Table', columnDefinitions: [{ name: 'Name' }], rows: [{ cells: ['a', 1] }], skipped: undefined },
  { items: [{}], after: 'the items', rows: [[], {}], nested: { items: [1] } },
  {},
];

describe('jsonPieces', () => {
  it('joins to exactly what JSON.stringify writes, compact and pretty', () => {
    for (const body of bodies) {
      expect([...jsonPieces(body, false)].join('')).toBe(JSON.stringify(body));
      expect([...jsonPieces(body, true)].join('')).toBe(JSON.stringify(body, null, 2));
    }
  });

  it('cuts a list into one piece per item (plus the envelope around them)', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ metadata: { name: `cm-${i}` } }));
    const pieces = [...jsonPieces({ kind: 'List', items }, false)];
    expect(pieces).toHaveLength(1002);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(50);
  });

  it('streams only objects with a top-level items or rows array', () => {
    expect(isStreamable({ items: [] })).toBe(true);
    expect(isStreamable({ rows: [] })).toBe(true);
    expect(isStreamable({ items: {} })).toBe(false);
    expect(isStreamable([1])).toBe(false);
    expect(isStreamable(null)).toBe(false);
  });
});
