// The image store: resolves image references to a directory plus manifest (built-in images, then user builds).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidReferenceError, parseImageReference, type ImageReference } from './image-reference.js';

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
  /** Where the image lives in kubemu's stores: the familiar repository, `kubemu/hello`, `busybox`, `localhost:5000/app`. */
  name: string;
  /** The tag (`latest` when neither tag nor digest was given); undefined for a digest-only reference. */
  tag: string | undefined;
  digest: string | undefined;
  /** Fully qualified repository: `docker.io/library/busybox`. */
  repository: string;
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
  readonly reason: 'ErrImagePull' | 'InvalidImageName' = 'ErrImagePull';
  constructor(
    readonly image: string,
    /** what the runtime said, without the kubelet's "Failed to pull image" prefix */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Failed to pull image "${image}": ${detail}`, options);
    this.name = 'ImagePullError';
  }
}

/** A reference the grammar rejects: upstream's kubelet reports InvalidImageName and never pulls. */
export class InvalidImageNameError extends ImagePullError {
  override readonly reason = 'InvalidImageName';
  constructor(image: string, cause: InvalidReferenceError) {
    super(image, `couldn't parse image name "${image}": ${cause.message}`, { cause });
    this.message = `Failed to apply default image tag "${image}": ${this.detail}`;
    this.name = 'InvalidImageNameError';
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

/**
 * Upstream repositories that stand for a built-in image whatever their tag or digest: the Kubernetes docs run
 * `registry.k8s.io/busybox`, `busybox:1.28` and friends for "a shell", and kubemu has one shell image.
 */
export const WELL_KNOWN_IMAGES: Readonly<Record<string, { builtIn: string; tag: string }>> = {
  'docker.io/library/busybox': { builtIn: 'busybox', tag: 'latest' },
  'registry.k8s.io/busybox': { builtIn: 'busybox', tag: 'latest' },
  'registry.k8s.io/e2e-test-images/busybox': { builtIn: 'busybox', tag: 'latest' },
  'k8s.gcr.io/busybox': { builtIn: 'busybox', tag: 'latest' },
  'gcr.io/google-containers/busybox': { builtIn: 'busybox', tag: 'latest' },
  'gcr.io/google_containers/busybox': { builtIn: 'busybox', tag: 'latest' },
  'quay.io/prometheus/busybox': { builtIn: 'busybox', tag: 'latest' },
  // the docs' examples that use alpine run it for the same shell one-liners
  'docker.io/library/alpine': { builtIn: 'busybox', tag: 'latest' },
};

/** Parses any reference docker accepts (`busybox`, `registry.k8s.io/busybox:1.27`, `x@sha256:...`, `host:5000/a/b:t`). */
export function parseImageRef(original: string): ImageRef {
  let ref: ImageReference;
  try {
    ref = parseImageReference(original);
  } catch (err) {
    if (err instanceof InvalidReferenceError)
      throw new InvalidImageError(`couldn't parse image name "${original}": ${err.message}`, { cause: err });
    throw err;
  }
  return {
    original,
    name: ref.familiar,
    tag: ref.tag,
    digest: ref.digest,
    repository: ref.repository,
    canonical: ref.canonical,
  };
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

  /** Resolves a reference or throws ImagePullError (InvalidImageNameError) with upstream's wording. */
  resolve(image: string): ResolvedImage {
    let ref: ImageRef;
    try {
      ref = parseImageRef(image);
    } catch (err) {
      if (err instanceof InvalidImageError && err.cause instanceof InvalidReferenceError)
        throw new InvalidImageNameError(image, err.cause);
      throw err;
    }
    const candidates: { dir: string; builtIn: boolean }[] = [];
    // A digest names content kubemu cannot check, so only the well-known stand-ins accept one.
    if (ref.tag !== undefined && ref.digest === undefined) {
      if (this.userDir) candidates.push({ dir: path.join(this.userDir, ref.name, ref.tag), builtIn: false });
      candidates.push({ dir: path.join(this.builtInDir, ref.name, ref.tag), builtIn: true });
    }
    const standIn = WELL_KNOWN_IMAGES[ref.repository];
    if (standIn)
      candidates.push({ dir: path.join(this.builtInDir, standIn.builtIn, standIn.tag), builtIn: true });
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
        `failed to resolve reference "${ref.canonical}": ${ref.canonical}: not found` +
        this.whatExists(),
    );
  }

  /** The hint every unknown image's error ends with: kubemu pulls from no registry, so say what is here. */
  private whatExists(): string {
    const names = [...new Set(this.list().map((i) => i.name))];
    return (
      `; kubemu pulls from no registry: the images here are ${names.join(', ')} ` +
      `(tags: run 'kubemu image ls'; add your own with 'kubemu image build')`
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
  if (ref.digest !== undefined || ref.tag === undefined)
    throw new InvalidImageError(`image "${image}": give a tag (NAME:TAG), not a digest`);
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
