import { describe, expect, it } from 'vitest';
import { goHostHeaderError, hostHeaderValues, nginxHostHeaderError } from './host-header.js';

describe('Host header checks', () => {
  it('finds every Host header in the raw list, whatever its case', () => {
    expect(hostHeaderValues(['Host', 'a', 'Accept', '*/*', 'HOST', 'b'])).toEqual(['a', 'b']);
  });

  it.each([
    ['example.com', undefined],
    ['127.0.0.1:6443', undefined],
    ['[::1]:6443', undefined],
    ['a b c', 'malformed Host header'],
    ['a\tb', 'malformed Host header'],
    ['exa"mple', 'malformed Host header'],
  ])('Go: %j → %s', (host, want) => {
    expect(goHostHeaderError(['Host', host])).toBe(want);
  });

  it('Go: two Host headers are too many', () => {
    expect(goHostHeaderError(['Host', 'a', 'Host', 'a'])).toBe('too many Host headers');
  });

  it.each([
    ['shop.example', undefined],
    ['shop.example.:80', undefined],
    ['[::1]:80', undefined],
    ['a b c', 'client sent invalid host header'],
    ['shop..example', 'client sent invalid host header'],
    ['shop/example', 'client sent invalid host header'],
    ['', 'client sent invalid host header'],
    [':80', 'client sent invalid host header'],
  ])('nginx: %j → %s', (host, want) => {
    expect(nginxHostHeaderError(['Host', host])).toBe(want);
  });

  it('nginx: a second Host header is a duplicate', () => {
    expect(nginxHostHeaderError(['Host', 'a', 'host', 'b'])).toBe('client sent duplicate host header');
  });
});
