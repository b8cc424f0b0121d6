// Kubeconfig files: merge a cluster's entry in (kind-style, never clobbering others), remove it, read one back.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { yaml } from './lazy-yaml.js';

interface NamedEntry<T> {
  name: string;
  [key: string]: unknown;
  cluster?: T;
  context?: T;
  user?: T;
}

interface KubeconfigCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  [key: string]: unknown;
}

interface KubeconfigUser {
  token?: string;
  tokenFile?: string;
  [key: string]: unknown;
}

interface KubeconfigContext {
  cluster: string;
  user: string;
  namespace?: string;
  [key: string]: unknown;
}

interface Kubeconfig {
  apiVersion: string;
  kind: string;
  clusters: NamedEntry<KubeconfigCluster>[];
  contexts: NamedEntry<KubeconfigContext>[];
  users: NamedEntry<KubeconfigUser>[];
  'current-context'?: string;
  preferences?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface WriteKubeconfigOptions {
  /** the cluster's name; cluster, context and (by default) user entries are named `kubemu-<name>` */
  name: string;
  /** e.g. https://127.0.0.1:6443 */
  server: string;
  caPem: string;
  token: string;
  /** name of the user entry; default `kubemu-<name>` */
  user?: string;
  /** make the context current (as `kind create cluster` does) */
  setCurrent?: boolean;
  /**
   * 'json' for the components' own kubeconfigs and the apiserver's admin.kubeconfig: JSON is YAML, so kubectl reads
   * them as ever, and neither the writer nor a reader loads a YAML parser. Default 'yaml' (the user's kubeconfig).
   */
  format?: 'yaml' | 'json';
}

export interface KubeconfigCredentials {
  server: string;
  /** undefined when the cluster entry names no CA (the system roots apply) */
  caPem: string | undefined;
  token: string | undefined;
  insecureSkipTlsVerify: boolean;
  /** the context's namespace, if any */
  namespace: string | undefined;
}

export const contextName = (name: string): string => `kubemu-${name}`;

function emptyKubeconfig(): Kubeconfig {
  return { apiVersion: 'v1', kind: 'Config', preferences: {}, clusters: [], contexts: [], users: [] };
}

function readExisting(file: string): Kubeconfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyKubeconfig();
    throw err;
  }
  let doc: unknown;
  try {
    // a JSON kubeconfig (as the components' are) parses without the YAML parser; anything else is YAML
    doc = jsonValue(text) ?? yaml().parse(text);
  } catch (err) {
    // never overwrite a file we could not understand
    throw new Error(`kubeconfig ${file} is not valid YAML`, { cause: err });
  }
  if (doc === null || doc === undefined) return emptyKubeconfig();
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`kubeconfig ${file} is not a mapping`);
  const config = { ...emptyKubeconfig(), ...(doc as Partial<Kubeconfig>) };
  // kubectl writes `null` for empty lists
  config.clusters = config.clusters ?? [];
  config.contexts = config.contexts ?? [];
  config.users = config.users ?? [];
  return config;
}

/** JSON.parse of a text that is a JSON object, else undefined (a YAML flow mapping `{a: b}` is not JSON) */
function jsonValue(text: string): unknown {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function upsert<T>(list: NamedEntry<T>[], entry: NamedEntry<T>): NamedEntry<T>[] {
  const index = list.findIndex((e) => e.name === entry.name);
  if (index < 0) return [...list, entry];
  return list.map((e, i) => (i === index ? entry : e));
}

function save(file: string, config: Kubeconfig, format: 'yaml' | 'json' = 'yaml'): void {
  const text = format === 'json' ? `${JSON.stringify(config, null, 2)}\n` : yaml().stringify(config);
  // `kubemu up` writes a dozen component kubeconfigs at every start, most of them as they were: a write (and its
  // fsync) only for a change
  if (unchanged(file, text)) return;
  writeFileAtomic(file, text, 0o600);
}

/** `file` holds `text` already, private to its owner as writeFileAtomic leaves it */
function unchanged(file: string, text: string): boolean {
  try {
    return (statSync(file).mode & 0o777) === 0o600 && readFileSync(file, 'utf8') === text;
  } catch {
    return false;
  }
}

/**
 * Adds or replaces the `kubemu-<name>` cluster, context and user in `file`, keeping every other entry,
 * and makes the context current when asked. Written atomically, mode 0600.
 */
export function writeKubeconfig(file: string, opts: WriteKubeconfigOptions): void {
  const config = readExisting(file);
  const context = contextName(opts.name);
  const user = opts.user ?? context;
  config.clusters = upsert(config.clusters, {
    name: context,
    cluster: {
      server: opts.server,
      'certificate-authority-data': Buffer.from(opts.caPem).toString('base64'),
    },
  });
  config.users = upsert(config.users, { name: user, user: { token: opts.token } });
  config.contexts = upsert(config.contexts, { name: context, context: { cluster: context, user } });
  if (opts.setCurrent) config['current-context'] = context;
  save(file, config, opts.format);
}

/**
 * Removes the `kubemu-<name>` cluster, context and user (and any user only that context used) from `file`,
 * unsetting current-context if it pointed there. A missing file is left missing.
 */
export function removeFromKubeconfig(file: string, name: string): void {
  if (!existsSync(file)) return;
  const config = readExisting(file);
  const context = contextName(name);
  const contextUser = config.contexts.find((c) => c.name === context)?.context?.user;
  config.contexts = config.contexts.filter((c) => c.name !== context);
  config.clusters = config.clusters.filter((c) => c.name !== context);
  const stillUsed = (user: string): boolean => config.contexts.some((c) => c.context?.user === user);
  config.users = config.users.filter(
    (u) => !((u.name === context || u.name === contextUser) && !stillUsed(u.name)),
  );
  if (config['current-context'] === context) config['current-context'] = '';
  save(file, config);
}

/** kubectl resolves relative file paths in a kubeconfig against the kubeconfig's own directory */
const resolveFrom = (file: string, path: string): string =>
  isAbsolute(path) ? path : resolve(dirname(file), path);

/** The server, CA and token a client needs, from `context` (default: the current context). */
export function readKubeconfig(file: string, context?: string): KubeconfigCredentials {
  const config = readExisting(file);
  const contextToUse = context ?? config['current-context'];
  if (!contextToUse) throw new Error(`kubeconfig ${file} has no current context`);
  const ctx = config.contexts.find((c) => c.name === contextToUse)?.context;
  if (!ctx) throw new Error(`context "${contextToUse}" does not exist in kubeconfig ${file}`);
  const cluster = config.clusters.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster?.server)
    throw new Error(`cluster "${ctx.cluster}" of context "${contextToUse}" has no server`);
  const user = config.users.find((u) => u.name === ctx.user)?.user ?? {};

  let caPem: string | undefined;
  if (cluster['certificate-authority-data']) {
    caPem = Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8');
  } else if (cluster['certificate-authority']) {
    caPem = readFileSync(resolveFrom(file, cluster['certificate-authority']), 'utf8');
  }
  let token = user.token;
  if (!token && user.tokenFile) token = readFileSync(resolveFrom(file, user.tokenFile), 'utf8').trim();

  return {
    server: cluster.server,
    caPem,
    token: token || undefined,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    namespace: ctx.namespace,
  };
}
