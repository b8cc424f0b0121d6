import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { buildImage, ImagePullError, ImageStore, InvalidImageError, parseImageRef } from './images.js';
import { containerArgv } from './container.js';

const SHA = 'sha256:' + 'a'.repeat(64);

describe('parseImageRef', () => {
  it.each([
    // [reference, name in kubemu's stores, tag, canonical] — normalised like docker's reference package
    ['busybox', 'busybox', 'latest', 'docker.io/library/busybox:latest'],
    ['busybox:1.28', 'busybox', '1.28', 'docker.io/library/busybox:1.28'],
    ['library/busybox', 'busybox', 'latest', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'busybox', 'latest', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox:1.36', 'busybox', '1.36', 'docker.io/library/busybox:1.36'],
    ['docker.io/kubemu/hello:v1', 'kubemu/hello', 'v1', 'docker.io/kubemu/hello:v1'],
    ['kubemu/hello', 'kubemu/hello', 'latest', 'docker.io/kubemu/hello:latest'],
    ['registry.k8s.io/busybox', 'registry.k8s.io/busybox', 'latest', 'registry.k8s.io/busybox:latest'],
    ['registry.k8s.io/busybox:1.27.2', 'registry.k8s.io/busybox', '1.27.2', 'registry.k8s.io/busybox:1.27.2'],
    ['localhost:5000/app:dev', 'localhost:5000/app', 'dev', 'localhost:5000/app:dev'],
    ['localhost/app', 'localhost/app', 'latest', 'localhost/app:latest'],
    ['[::1]:5000/team/app:v2', '[::1]:5000/team/app', 'v2', '[::1]:5000/team/app:v2'],
    ['Registry.Example/app', 'Registry.Example/app', 'latest', 'Registry.Example/app:latest'],
    [`busybox@${SHA}`, 'busybox', undefined, `docker.io/library/busybox@${SHA}`],
    [`busybox:1.36@${SHA}`, 'busybox', '1.36', `docker.io/library/busybox@${SHA}`],
  ])('%s', (reference, name, tag, canonical) => {
    expect(parseImageRef(reference)).toMatchObject({ name, tag, canonical });
  });

  it.each([
    ['Bad Name', 'invalid reference format'],
    ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
    ['busybox:', 'invalid reference format'],
    ['busybox:-x', 'invalid reference format'],
    ['busybox@sha256:abc', 'invalid reference format'],
    [`busybox@sha256:${'a'.repeat(40)}`, 'invalid checksum digest length'],
    [`busybox@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
    [
      'a'.repeat(64),
      `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`,
    ],
    [`x/${'a'.repeat(260)}`, 'repository name must not be more than 255 characters'],
    ['', 'repository name must have at least one component'],
    ['-x', 'invalid reference format'],
  ])('rejects %j', (reference, why) => {
    expect(() => parseImageRef(reference)).toThrow(InvalidImageError);
    expect(() => parseImageRef(reference)).toThrow(`couldn't parse image name "${reference}": ${why}`);
  });
});

describe('ImageStore', () => {
  const store = new ImageStore();
  it('resolves every built-in image and its latest alias', () => {
    for (const ref of [
      'kubemu/hello:v1',
      'kubemu/hello:v2',
      'kubemu/hello:v3',
      'kubemu/hello',
      'kubemu/echo',
      'kubemu/cart',
      'kubemu/tls-echo',
      'kubemu/writer',
      'kubemu/reader',
      'busybox',
      'busybox:1.36',
      'busybox:1.28',
      'docker.io/library/busybox:1.35',
      'registry.k8s.io/busybox',
      'registry.k8s.io/busybox:1.27',
      'registry.k8s.io/e2e-test-images/busybox:1.36.1-1',
      'k8s.gcr.io/busybox',
      `busybox@${SHA}`,
      `docker.io/library/busybox:1.28@${SHA}`,
      'alpine',
      'alpine:3.20',
    ]) {
      const img = store.resolve(ref);
      expect(fs.existsSync(path.join(img.dir, 'image.json'))).toBe(true);
    }
    expect(store.resolve('kubemu/hello').manifest.env['VERSION']).toBe('v3');
    expect(store.resolve('docker.io/kubemu/hello:v2').manifest.env['VERSION']).toBe('v2');
    expect(store.resolve('busybox').manifest).toMatchObject({ entrypoint: [], cmd: ['sh'] });
    expect(store.resolve('alpine:latest').manifest).toMatchObject({ entrypoint: [], cmd: ['sh'] });
    // the Kubernetes docs' busybox is the shell image, under its own canonical name
    const docs = store.resolve('registry.k8s.io/busybox:1.27');
    expect(docs.dir).toBe(store.resolve('busybox').dir);
    expect(docs.ref.canonical).toBe('registry.k8s.io/busybox:1.27');
  });
  it('does not take a digest for an image whose content it cannot check', () => {
    expect(() => store.resolve(`kubemu/hello@${SHA}`)).toThrow(/not found/);
  });
  it("reports an unparseable name as InvalidImageName, with the kubelet's wording", () => {
    try {
      store.resolve('Busybox');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ImagePullError);
      expect((err as ImagePullError).reason).toBe('InvalidImageName');
      expect((err as Error).message).toBe(
        'Failed to apply default image tag "Busybox": couldn\'t parse image name "Busybox": ' +
          'invalid reference format: repository name (library/Busybox) must be lowercase',
      );
    }
  });
  it('reports a missing image with upstream wording', () => {
    expect(() => store.resolve('nosuch/image:v9')).toThrow(ImagePullError);
    try {
      store.resolve('nosuch:v9');
    } catch (err) {
      expect((err as ImagePullError).reason).toBe('ErrImagePull');
      expect((err as Error).message).toBe(
        'Failed to pull image "nosuch:v9": rpc error: code = NotFound desc = failed to pull and unpack image ' +
          '"docker.io/library/nosuch:v9": failed to resolve reference "docker.io/library/nosuch:v9": docker.io/library/nosuch:v9: not found' +
          '; kubemu pulls from no registry: the images here are busybox, kubemu/cart, kubemu/echo, kubemu/hello, ' +
          "kubemu/reader, kubemu/tls-echo, kubemu/writer (tags: run 'kubemu image ls'; add your own with 'kubemu image build')",
      );
    }
    expect(() => store.resolve('kubemu/hello:v99')).toThrow(/not found/);
  });
  it('lists built-in images', () => {
    const names = store.list().map((i) => `${i.name}:${i.tag}`);
    expect(names).toContain('kubemu/hello:v1');
    expect(names).toContain('busybox:latest');
  });
});

describe('buildImage', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-img-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  it('copies a directory into the user store, where it shadows nothing else and resolves', () => {
    const src = tmp();
    const state = tmp();
    fs.writeFileSync(
      path.join(src, 'image.json'),
      JSON.stringify({ entrypoint: ['node', '/app/main.mjs'], env: { A: '1' }, workingDir: '/app' }),
    );
    fs.writeFileSync(path.join(src, 'main.mjs'), 'console.log(1)');
    const built = buildImage(src, 'me/app:v1', state);
    expect(fs.readFileSync(path.join(built.dir, 'main.mjs'), 'utf8')).toBe('console.log(1)');
    const resolved = new ImageStore({ stateDir: state }).resolve('me/app:v1');
    expect(resolved.builtIn).toBe(false);
    expect(resolved.manifest.env).toEqual({ A: '1' });
    // Rebuilding a tag replaces it.
    fs.writeFileSync(path.join(src, 'main.mjs'), 'console.log(2)');
    buildImage(src, 'me/app:v1', state);
    expect(fs.readFileSync(path.join(resolved.dir, 'main.mjs'), 'utf8')).toBe('console.log(2)');
  });
  it('says clearly what is wrong with a manifest', () => {
    const src = tmp();
    expect(() => buildImage(src, 'me/app:v1', tmp())).toThrow(/image.json is missing/);
    fs.writeFileSync(
      path.join(src, 'image.json'),
      JSON.stringify({ entrypoint: 'node', env: { A: 1 }, workingDir: 'app' }),
    );
    expect(() => buildImage(src, 'me/app:v1', tmp())).toThrow(
      /entrypoint must be an array of strings.*env.A must be a string.*workingDir must be an absolute path/,
    );
  });
});

describe('containerArgv', () => {
  const image = { ...new ImageStore().resolve('kubemu/hello:v1') };
  const shell = new ImageStore().resolve('busybox');
  it('applies upstream command/args semantics', () => {
    expect(containerArgv(image)).toEqual([process.execPath, '/app/server.mjs']);
    expect(containerArgv(image, undefined, ['--x'])).toEqual([process.execPath, '/app/server.mjs', '--x']);
    expect(containerArgv(shell)).toEqual(['sh']);
    expect(containerArgv(shell, ['sh', '-c'], ['echo hi'])).toEqual(['sh', '-c', 'echo hi']);
    // command without args drops the image's cmd
    expect(
      containerArgv({ ...shell, manifest: { ...shell.manifest, entrypoint: ['e'], cmd: ['c'] } }, ['x']),
    ).toEqual(['x']);
    expect(
      containerArgv({ ...shell, manifest: { ...shell.manifest, entrypoint: ['e'], cmd: ['c'] } }, undefined, [
        'a',
      ]),
    ).toEqual(['e', 'a']);
  });
});
