import { describe, expect, it } from 'vitest';
import { JsonObjectStream } from './kubectl-watch.js';

describe('JsonObjectStream', () => {
  it('splits pretty-printed objects that arrive in arbitrary chunks, braces in strings included', () => {
    const text = `${JSON.stringify({ type: 'ADDED', object: { a: '}{"' } }, null, 4)}\n${JSON.stringify({ type: 'DELETED' }, null, 4)}\n`;
    const s = new JsonObjectStream();
    const out: unknown[] = [];
    for (let i = 0; i < text.length; i += 7) out.push(...s.push(text.slice(i, i + 7)));
    expect(out).toEqual([{ type: 'ADDED', object: { a: '}{"' } }, { type: 'DELETED' }]);
  });
});
