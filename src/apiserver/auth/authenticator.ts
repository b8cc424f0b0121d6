// Bearer-token authentication against the static token file: who is making this request?
import { createHash, timingSafeEqual } from 'node:crypto';
import { statSync } from 'node:fs';
import type { UserInfo } from '../../api/request.js';
import type { Logger } from '../../util/logger.js';
import { readTokenFile, type TokenEntry } from './token-file.js';

/** Paths anyone may read without credentials (upstream's system:public-info-viewer). */
export const PUBLIC_PATHS: readonly string[] = ['/healthz', '/livez', '/readyz', '/version'];

/** Whether `path` (query string allowed) is a public path or below one, e.g. `/readyz/ping`. */
export function isPublicPath(path: string): boolean {
  const bare = path.split('?', 1)[0];
  return PUBLIC_PATHS.some((p) => bare === p || bare.startsWith(`${p}/`));
}

/** upstream adds this group to every authenticated user */
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** The WebSocket subprotocol prefix browsers use to carry a bearer token (the token follows, base64url). */
export const BEARER_SUBPROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

/** The subprotocol that carries `token`, for WebSocket clients that cannot set an Authorization header. */
export const bearerSubprotocol = (token: string): string =>
  BEARER_SUBPROTOCOL_PREFIX + Buffer.from(token).toString('base64url');

/** The offered subprotocols without the bearer one: the server must never echo a token back. */
export const stripBearerSubprotocol = (protocols: readonly string[]): string[] =>
  protocols.filter((p) => !p.startsWith(BEARER_SUBPROTOCOL_PREFIX));

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? (value as readonly string[]).join(', ') : (value as string | undefined);
}

/**
 * The bearer token a request carries: `Authorization: Bearer <token>` (scheme case-insensitive, as
 * upstream), else a `base64url.bearer.authorization.k8s.io.<base64url token>` WebSocket subprotocol.
 */
export function tokenFromHeaders(headers: HeaderBag): string | undefined {
  const authorization = header(headers, 'authorization');
  if (authorization !== undefined) {
    const parts = authorization.trim().split(' ');
    if (parts.length >= 2 && parts[0].toLowerCase() === 'bearer' && parts[1] !== '') return parts[1];
  }
  const protocols = header(headers, 'sec-websocket-protocol');
  if (protocols !== undefined) {
    for (const protocol of protocols.split(',').map((p) => p.trim())) {
      if (!protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX)) continue;
      const encoded = protocol.slice(BEARER_SUBPROTOCOL_PREFIX.length);
      if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
      const token = Buffer.from(encoded, 'base64url').toString('utf8');
      return token === '' ? undefined : token;
    }
  }
  return undefined;
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

interface Credential {
  digest: Buffer;
  user: UserInfo;
}

function toCredential(entry: TokenEntry): Credential {
  const groups = entry.groups.includes(AUTHENTICATED_GROUP)
    ? entry.groups
    : [...entry.groups, AUTHENTICATED_GROUP];
  const user: UserInfo = { username: entry.user, groups };
  if (entry.uid !== '') user.uid = entry.uid;
  return { digest: digest(entry.token), user };
}

/**
 * Authenticates bearer tokens from a token file. Tokens are kept only as SHA-256 digests and compared
 * in constant time. The file is re-read when a token is not found and the file changed since the
 * last read, so node tokens added by `ensureComponentToken` work without a restart.
 */
export class TokenAuthenticator {
  private credentials: Credential[] = [];
  private fileStamp = '';

  private constructor(
    private readonly file: string | undefined,
    private readonly log: Logger | undefined,
  ) {}

  static fromFile(file: string, log?: Logger): TokenAuthenticator {
    const authenticator = new TokenAuthenticator(file, log);
    authenticator.reload(true);
    return authenticator;
  }

  static fromEntries(entries: readonly TokenEntry[]): TokenAuthenticator {
    const authenticator = new TokenAuthenticator(undefined, undefined);
    authenticator.credentials = entries.filter((e) => e.token !== '').map(toCredential);
    return authenticator;
  }

  /** The user behind the request's bearer token, or undefined (no token, or an unknown one → 401). */
  authenticate(headers: HeaderBag): UserInfo | undefined {
    const token = tokenFromHeaders(headers);
    return token === undefined ? undefined : this.authenticateToken(token);
  }

  authenticateToken(token: string): UserInfo | undefined {
    const presented = digest(token);
    const found = this.lookup(presented);
    if (found || !this.reload(false)) return found;
    return this.lookup(presented);
  }

  private lookup(presented: Buffer): UserInfo | undefined {
    let match: UserInfo | undefined;
    // visit every credential whatever matches, so timing says nothing about which token is close
    for (const credential of this.credentials) {
      if (timingSafeEqual(credential.digest, presented) && !match) match = credential.user;
    }
    return match ? { ...match, groups: [...match.groups] } : undefined;
  }

  /** Re-reads the file if it changed; returns whether credentials were replaced. Throws only on the first read. */
  private reload(first: boolean): boolean {
    if (this.file === undefined) return false;
    try {
      const stat = statSync(this.file);
      const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      if (stamp === this.fileStamp) return false;
      this.credentials = readTokenFile(this.file).map(toCredential);
      this.fileStamp = stamp;
      this.log?.info({ file: this.file, users: this.credentials.length }, 'loaded token file');
      return true;
    } catch (err) {
      if (first) throw err;
      this.log?.warn(
        { file: this.file, err: (err as Error).message },
        'token file reload failed; keeping old tokens',
      );
      return false;
    }
  }
}
