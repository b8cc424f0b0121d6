import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isStreamable, jsonPieces, streamJson } from './json-stream.js';

/** A response over a socket that takes every write at once: write() says "wait", and 'drain' comes next tick. */
class EagerResponse extends EventEmitter {
  destroyed = false;
  readonly chunks: string[] = [];
  writeHead(): this {
    return this;
  }
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    process.nextTick(() => this.emit('drain'));
    return false;
  }
  end(chunk?: string): this {
    if (chunk) this.chunks.push(chunk);
    return this;
  }
}

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

describe('streamJson', () => {
  it('hands the event loop back even when every write drains on the next tick', async () => {
    const items = Array.from({ length: 200_000 }, (_, i) => ({
      metadata: { name: `cm-${i}` },
      data: { k: 'v' },
    }));
    const body = { kind: 'ConfigMapList', apiVersion: 'v1', metadata: {}, items };
    const res = new EagerResponse();
    let turns = 0;
    let streaming = true;
    const count = (): void => {
      turns++;
      if (streaming) setImmediate(count);
    };
    setImmediate(count);
    await streamJson(res as unknown as ServerResponse, 200, body, {}, false);
    streaming = false;
    expect(res.chunks.join('')).toBe(JSON.stringify(body));
    // drains chained through next ticks once let nothing else run until the whole list was written
    expect(turns).toBeGreaterThan(2);
  });
});
