import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import { fromLabelSelector, parseFieldSelector, parseLabelSelector, selectorString } from './selectors.js';

describe('selectorString', () => {
  it('renders a LabelSelector as LabelSelectorAsSelector(...).String() (sorted by key), and parses back to the same requirements', () => {
    const sel = fromLabelSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
        { key: 'canary', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    const text = selectorString(sel);
    expect(text).toBe('app=web,canary,env notin (dev),!legacy,tier in (a,b)');
    expect(parseLabelSelector(text).requirements).toEqual(sel.requirements);
  });
});

describe('field selectors as fields.ParseSelector parses them', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'a,b=c', namespace: 'default' },
    spec: { nodeName: 'node-1' },
  };
  const badRequest = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ApiError) return `${e.code} ${e.message}`;
    }
    return 'no ApiError';
  };

  it('unescapes \\, \\= and \\\\ in values and skips empty terms', () => {
    expect(parseFieldSelector('metadata.name=a\\,b\\=c,', 'pods').matches(pod)).toBe(true);
    expect(parseFieldSelector(',spec.nodeName==node-1', 'pods').matches(pod)).toBe(true);
  });

  it("maps the Pod's old spec.host to spec.nodeName", () => {
    const sel = parseFieldSelector('spec.host=node-1', 'pods');
    expect(sel.requirements).toEqual([{ field: 'spec.nodeName', op: '=', value: 'node-1' }]);
    expect(sel.matches(pod)).toBe(true);
  });

  it("takes names literally (no trimming) and gives upstream's messages", () => {
    expect(badRequest(() => parseFieldSelector('metadata.name =x', 'pods'))).toBe(
      '400 field label not supported: metadata.name ',
    );
    expect(badRequest(() => parseFieldSelector('metadata.name', 'pods'))).toBe(
      "400 invalid selector: 'metadata.name'; can't understand 'metadata.name'",
    );
    expect(badRequest(() => parseFieldSelector('metadata.name=a=b', 'pods'))).toBe(
      '400 invalid field selector: unescaped character in value: 61',
    );
    expect(badRequest(() => parseFieldSelector('metadata.name=a\\x', 'pods'))).toBe(
      '400 invalid field selector: invalid escape sequence: \\x',
    );
    expect(badRequest(() => parseFieldSelector('metadata.name=a\\', 'pods'))).toBe(
      '400 invalid field selector: invalid escape sequence: \\',
    );
  });
});
