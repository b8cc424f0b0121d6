import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { buildImage, ImagePullError, ImageStore, InvalidImageError, parseImageRef } from './images.js';
import { containerArgv } from './container.js';

describe('parseImageRef', () => {
  it('normalises docker hub references like upstream', () => {
    expect(parseImageRef('busybox')).toMatchObject({
      name: 'busybox',
      tag: 'latest',
      canonical: 'docker.io/library/busybox:latest',
    });
    expect(parseImageRef('docker.io/kubemu/hello:v1')).toMatchObject({
      name: 'kubemu/hello',
      tag: 'v1',
      canonical: 'docker.io/kubemu/hello:v1',
    });
    expect(parseImageRef('docker.io/library/busybox:1.36')).toMatchObject({ name: 'busybox', tag: '1.36' });
    expect(parseImageRef('localhost:5000/app:dev')).toMatchObject({ name: 'localhost:5000/app', tag: 'dev' });
  });
  it('rejects nonsense', () => {
    expect(() => parseImageRef('Bad Name')).toThrow(InvalidImageError);
    expect(() => parseImageRef('x@sha256:abc')).toThrow(/digests/);
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
  });
  it('reports a missing image with upstream wording', () => {
    expect(() => store.resolve('nosuch/image:v9')).toThrow(ImagePullError);
    try {
      store.resolve('nosuch:v9');
    } catch (err) {
      expect((err as ImagePullError).reason).toBe('ErrImagePull');
      expect((err as Error).message).toBe(
        'Failed to pull image "nosuch:v9": rpc error: code = NotFound desc = failed to pull and unpack image ' +
          '"docker.io/library/nosuch:v9": failed to resolve reference "docker.io/library/nosuch:v9": docker.io/library/nosuch:v9: not found',
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
