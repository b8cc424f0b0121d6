// The Host header checks that servers make before routing a request: Go's net/http (the apiserver's) and nginx's
// (the ingress gateway's). Node keeps only the first of repeated Host headers in `req.headers`, so both look at
// the raw header list.

/** every Host header's value, in the order they came (`rawHeaders` is name, value, name, value...) */
export function hostHeaderValues(rawHeaders: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === 'host') values.push(rawHeaders[i + 1]);
  }
  return values;
}

/** httpguts' validHostByte: the characters of a reg-name, an IP literal, a port and a %-zone */
const GO_HOST_BYTE = /^[A-Za-z0-9!$%&'()*+,\-.:;=[\]_~]*$/;

/**
 * What Go's server answers (400 `Bad Request: <this>`) before any handler sees the request, or undefined:
 * `too many Host headers`, `malformed Host header`.
 */
export function goHostHeaderError(rawHeaders: readonly string[]): string | undefined {
  const hosts = hostHeaderValues(rawHeaders);
  if (hosts.length > 1) return 'too many Host headers';
  if (hosts.length === 1 && !GO_HOST_BYTE.test(hosts[0])) return 'malformed Host header';
  return undefined;
}

/**
 * What nginx logs when it answers 400 for the Host header (ngx_http_validate_host), or undefined:
 * `client sent duplicate host header`, `client sent invalid host header`.
 */
export function nginxHostHeaderError(rawHeaders: readonly string[]): string | undefined {
  const hosts = hostHeaderValues(rawHeaders);
  if (hosts.length > 1) return 'client sent duplicate host header';
  if (hosts.length === 1 && !nginxValidHost(hosts[0])) return 'client sent invalid host header';
  return undefined;
}

/** ngx_http_validate_host: no `..`, `/`, control characters or spaces, and a name before any port */
function nginxValidHost(host: string): boolean {
  let dot = -2;
  let nameLength = host.length;
  let state: 'name' | 'literal' | 'rest' = 'name';
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (dot === i - 1) return false;
      dot = i;
    } else if (c === 0x3a /* : */) {
      if (state === 'name') {
        nameLength = i;
        state = 'rest';
      }
    } else if (c === 0x5b /* [ */) {
      if (i === 0) state = 'literal';
    } else if (c === 0x5d /* ] */) {
      if (state === 'literal') {
        nameLength = i + 1;
        state = 'rest';
      }
    } else if (c === 0x2f /* / */ || c <= 0x20 || c === 0x7f) return false;
  }
  if (dot === nameLength - 1) nameLength--;
  return nameLength > 0;
}
