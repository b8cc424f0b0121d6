import { describe, expect, it } from 'vitest';
import { fromLabelSelector, parseLabelSelector, selectorString } from './selectors.js';

describe('selectorString', () => {
  it('renders a LabelSelector the way Scale.status.selector shows it, and parses back to the same requirements', () => {
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
    expect(text).toBe('app=web,tier in (a,b),env notin (dev),canary,!legacy');
    expect(parseLabelSelector(text).requirements).toEqual(sel.requirements);
  });
});
