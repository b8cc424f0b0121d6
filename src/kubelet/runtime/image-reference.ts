// Image references as the kubelet and container runtimes read them: docker's reference grammar
// (github.com/distribution/reference: regexp.go, normalize.go) with its normalisation — docker.io as the
// default registry, `library/` for single-component names, `latest` when there is neither tag nor digest.

/** A reference the grammar rejects; the message is distribution/reference's. */
export class InvalidReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidReferenceError';
  }
}

export interface ImageReference {
  /** registry host, with port if any: `docker.io`, `registry.k8s.io`, `localhost:5000` */
  domain: string;
  /** repository path inside the registry: `library/busybox`, `kubemu/hello` */
  path: string;
  /** the tag written, else `latest` when there is no digest either */
  tag: string | undefined;
  /** `sha256:<hex>` when the reference pins one */
  digest: string | undefined;
  /** `docker.io/library/busybox` */
  repository: string;
  /** the repository as docker prints it: `busybox`, `kubemu/hello`, `registry.k8s.io/busybox` */
  familiar: string;
  /** fully qualified: `docker.io/library/busybox:latest`, `...busybox@sha256:...` (digest wins over tag) */
  canonical: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

// regexp.go, piece by piece
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainAndPort = `(?:${domainName}|${ipv6address})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const namePattern = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const REFERENCE_RE = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const DOMAIN_RE = new RegExp(`^${domainAndPort}$`);
const ANCHORED_IDENTIFIER_RE = /^[a-f0-9]{64}$/;
/** go-digest's registered algorithms and their hex lengths */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** distribution/reference's ParseNormalizedNamed plus the kubelet's default tag. */
export function parseImageReference(image: string): ImageReference {
  if (ANCHORED_IDENTIFIER_RE.test(image))
    throw new InvalidReferenceError(
      `invalid repository name (${image}), cannot specify 64-byte hexadecimal strings`,
    );
  const [domain, remainder] = splitDockerDomain(image);
  const tagSeparator = remainder.indexOf(':');
  const remote = tagSeparator >= 0 ? remainder.slice(0, tagSeparator) : remainder;
  if (remote.toLowerCase() !== remote)
    throw new InvalidReferenceError(
      `invalid reference format: repository name (${remote}) must be lowercase`,
    );
  const full = `${domain}/${remainder}`;
  const match = REFERENCE_RE.exec(full);
  if (!match) {
    if (image === '') throw new InvalidReferenceError('repository name must have at least one component');
    throw new InvalidReferenceError('invalid reference format');
  }
  const [, name, tag, digest] = match;
  if (name.length > NAME_TOTAL_LENGTH_MAX)
    throw new InvalidReferenceError(
      `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
    );
  if (!DOMAIN_RE.test(domain)) throw new InvalidReferenceError('invalid reference format');
  if (digest !== undefined) validateDigest(digest);
  const path = name.slice(domain.length + 1);
  const familiar =
    domain === DEFAULT_DOMAIN
      ? path.startsWith(OFFICIAL_REPO_PREFIX) && !path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')
        ? path.slice(OFFICIAL_REPO_PREFIX.length)
        : path
      : name;
  const effectiveTag = tag ?? (digest === undefined ? DEFAULT_TAG : undefined);
  return {
    domain,
    path,
    tag: effectiveTag,
    digest,
    repository: name,
    familiar,
    canonical: digest !== undefined ? `${name}@${digest}` : `${name}:${effectiveTag}`,
  };
}

/** normalize.go's splitDockerDomain */
function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  const maybeDomain = name.slice(0, slash);
  const maybeRemote = name.slice(slash + 1);
  let domain: string;
  let remote: string;
  if (maybeDomain === 'localhost') [domain, remote] = [maybeDomain, maybeRemote];
  else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) [domain, remote] = [DEFAULT_DOMAIN, maybeRemote];
  else if (/[.:]/.test(maybeDomain)) [domain, remote] = [maybeDomain, maybeRemote];
  else if (maybeDomain.toLowerCase() !== maybeDomain) [domain, remote] = [maybeDomain, maybeRemote];
  else [domain, remote] = [DEFAULT_DOMAIN, name];
  if (domain === DEFAULT_DOMAIN && !remote.includes('/')) remote = OFFICIAL_REPO_PREFIX + remote;
  return [domain, remote];
}

/** go-digest's Validate */
function validateDigest(digest: string): void {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const want = DIGEST_HEX_LENGTH[algorithm];
  if (want === undefined) throw new InvalidReferenceError('unsupported digest algorithm');
  if (hex.length !== want) throw new InvalidReferenceError('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(hex)) throw new InvalidReferenceError('invalid checksum digest format');
}
