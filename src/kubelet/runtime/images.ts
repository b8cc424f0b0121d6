// The image store: resolves image references to a directory plus manifest (built-in images, then user builds).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The manifest every image directory carries as image.json. */
export interface ImageManifest {
  /** Like an OCI ENTRYPOINT; a pod's `command` replaces it. */
  entrypoint: string[];
  /** Like an OCI CMD; a pod's `args` replaces it. */
  cmd?: string[];
  env: Record<string, string>;
  workingDir: string;
  ports?: { containerPort: number; protocol?: string; description?: string }[];
}

export interface ImageRef {
  /** As the user wrote it. */
  original: string;
  /** Repository path without registry, e.g. `kubemu/hello` or `busybox`. */
  name: string;
  tag: string;
  /** Fully qualified, as upstream's container runtime prints it: `docker.io/library/busybox:latest`. */
  canonical: string;
}

export interface ResolvedImage {
  ref: ImageRef;
  dir: string;
  manifest: ImageManifest;
  builtIn: boolean;
}

/** An image that cannot be found or read: the kubelet turns it into ErrImagePull / ImagePullBackOff. */
export class ImagePullError extends Error {
  readonly reason = 'ErrImagePull';
  constructor(
    readonly image: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Failed to pull image "${image}": ${detail}`, options);
    this.name = 'ImagePullError';
  }
}

/** A directory or manifest that is not a valid image (for `kubemu image build`). */
export class InvalidImageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidImageError';
  }
}

/** Built-in images ship in <package>/images; this file is src/kubelet/runtime or dist/kubelet/runtime. */
export const BUILTIN_IMAGES_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../images',
);

const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
const NAME_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Parses `busybox`, `kubemu/hello:v1`, `docker.io/library/busybox:1.36`; throws InvalidImageError on nonsense. */
export function parseImageRef(original: string): ImageRef {
  let rest = original.trim();
  if (rest.includes('@'))
    throw new InvalidImageError(`image "${original}": digests are not supported, use a tag`);
  const firstSlash = rest.indexOf('/');
  let registry = 'docker.io';
  if (firstSlash > 0) {
    const head = rest.slice(0, firstSlash);
    if (head.includes('.') || head.includes(':') || head === 'localhost') {
      registry = head;
      rest = rest.slice(firstSlash + 1);
    }
  }
  let tag = 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (DOCKER_HUB.includes(registry) && rest.startsWith('library/')) rest = rest.slice('library/'.length);
  if (!NAME_RE.test(rest) || !TAG_RE.test(tag)) {
    throw new InvalidImageError(`couldn't parse image name "${original}": invalid reference format`);
  }
  const repo = DOCKER_HUB.includes(registry) && !rest.includes('/') ? `library/${rest}` : rest;
  const host = DOCKER_HUB.includes(registry) ? 'docker.io' : registry;
  // Only docker.io is known locally, so other registries keep their host in the name and are looked up as such.
  const name = DOCKER_HUB.includes(registry) ? rest : `${registry}/${rest}`;
  return { original, name, tag, canonical: `${host}/${repo}:${tag}` };
}

/** Reads and validates an image.json; throws InvalidImageError saying what is wrong. */
export function readManifest(dir: string): ImageManifest {
  const file = path.join(dir, 'image.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is missing' : `is not valid JSON (${(err as Error).message})`;
    throw new InvalidImageError(`${file} ${why}`, { cause: err });
  }
  return validateManifest(raw, file);
}

export function validateManifest(raw: unknown, where = 'image.json'): ImageManifest {
  const problems: string[] = [];
  const isStringArray = (v: unknown): v is string[] =>
    Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidImageError(`${where}: must be a JSON object`);
  }
  const m = raw as Record<string, unknown>;
  if (!isStringArray(m['entrypoint'])) problems.push('entrypoint must be an array of strings (may be empty)');
  if (m['cmd'] !== undefined && !isStringArray(m['cmd'])) problems.push('cmd must be an array of strings');
  const env = m['env'] ?? {};
  if (typeof env !== 'object' || env === null || Array.isArray(env)) problems.push('env must be an object');
  else
    for (const [k, v] of Object.entries(env)) {
      if (typeof v !== 'string') problems.push(`env.${k} must be a string`);
    }
  const workingDir = m['workingDir'] ?? '/';
  if (typeof workingDir !== 'string' || !workingDir.startsWith('/'))
    problems.push('workingDir must be an absolute path');
  if (m['ports'] !== undefined && !Array.isArray(m['ports'])) problems.push('ports must be an array');
  const entrypoint = (m['entrypoint'] ?? []) as string[];
  const cmd = m['cmd'] as string[] | undefined;
  if (problems.length === 0 && entrypoint.length === 0 && (cmd?.length ?? 0) === 0) {
    problems.push('entrypoint or cmd must name a program');
  }
  if (problems.length > 0) throw new InvalidImageError(`${where}: ${problems.join('; ')}`);
  return {
    entrypoint,
    ...(cmd ? { cmd } : {}),
    env: env as Record<string, string>,
    workingDir: workingDir as string,
    ...(m['ports'] ? { ports: m['ports'] as ImageManifest['ports'] } : {}),
  };
}

export interface ImageStoreOptions {
  /** The cluster's state dir; user images live in <stateDir>/images/<name>/<tag>. */
  stateDir?: string;
  builtInDir?: string;
}

/** Finds images: user builds first (a local build replaces a tag, as with docker), then built-ins. */
export class ImageStore {
  private readonly userDir: string | undefined;
  private readonly builtInDir: string;

  constructor(options: ImageStoreOptions = {}) {
    this.userDir = options.stateDir ? path.join(options.stateDir, 'images') : undefined;
    this.builtInDir = options.builtInDir ?? BUILTIN_IMAGES_DIR;
  }

  /** Resolves a reference or throws ImagePullError with upstream's wording. */
  resolve(image: string): ResolvedImage {
    let ref: ImageRef;
    try {
      ref = parseImageRef(image);
    } catch (err) {
      throw new ImagePullError(image, (err as Error).message, { cause: err });
    }
    const candidates: { dir: string; builtIn: boolean }[] = [];
    if (this.userDir) candidates.push({ dir: path.join(this.userDir, ref.name, ref.tag), builtIn: false });
    candidates.push({ dir: path.join(this.builtInDir, ref.name, ref.tag), builtIn: true });
    // busybox stands for "a shell": any busybox tag runs the one built-in shell image; so does alpine, which the
    // Kubernetes docs' examples use for the same shell one-liners.
    if (ref.name === 'busybox' || ref.name === 'alpine')
      candidates.push({ dir: path.join(this.builtInDir, 'busybox', 'latest'), builtIn: true });
    for (const c of candidates) {
      if (!fs.existsSync(path.join(c.dir, 'image.json'))) continue;
      try {
        return { ref, dir: fs.realpathSync(c.dir), manifest: readManifest(c.dir), builtIn: c.builtIn };
      } catch (err) {
        throw new ImagePullError(
          image,
          `failed to unpack image "${ref.canonical}": ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    }
    throw new ImagePullError(
      image,
      `rpc error: code = NotFound desc = failed to pull and unpack image "${ref.canonical}": ` +
        `failed to resolve reference "${ref.canonical}": ${ref.canonical}: not found`,
    );
  }

  /** Lists every image the store can run, as `name:tag`. */
  list(): { name: string; tag: string; dir: string; builtIn: boolean }[] {
    const out: { name: string; tag: string; dir: string; builtIn: boolean }[] = [];
    const walk = (root: string, builtIn: boolean, rel: string): void => {
      const here = path.join(root, rel);
      if (rel && fs.existsSync(path.join(here, 'image.json'))) {
        const slash = rel.lastIndexOf('/');
        out.push({ name: rel.slice(0, slash), tag: rel.slice(slash + 1), dir: here, builtIn });
        return;
      }
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(here, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.isDirectory() || e.isSymbolicLink()) walk(root, builtIn, rel ? `${rel}/${e.name}` : e.name);
      }
    };
    if (this.userDir) walk(this.userDir, false, '');
    walk(this.builtInDir, true, '');
    return out.sort((a, b) => `${a.name}:${a.tag}`.localeCompare(`${b.name}:${b.tag}`));
  }
}

/** `kubemu image build DIR -t NAME:TAG`: validates DIR/image.json and copies DIR into the user store. */
export function buildImage(srcDir: string, image: string, stateDir: string): ResolvedImage {
  const ref = parseImageRef(image);
  if (!fs.existsSync(srcDir) || !fs.statSync(srcDir).isDirectory()) {
    throw new InvalidImageError(`${srcDir}: not a directory`);
  }
  const manifest = readManifest(srcDir);
  const dest = path.join(stateDir, 'images', ref.name, ref.tag);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  // Copy beside the destination, then swap, so a running container never sees a half-copied image.
  const staging = `${dest}.tmp-${process.pid}-${Date.now()}`;
  fs.cpSync(srcDir, staging, { recursive: true, dereference: true });
  const old = `${dest}.old-${process.pid}-${Date.now()}`;
  if (fs.existsSync(dest)) fs.renameSync(dest, old);
  fs.renameSync(staging, dest);
  fs.rmSync(old, { recursive: true, force: true });
  return { ref, dir: dest, manifest, builtIn: false };
}
