import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerConfigError } from './env.js';
import { containerMounts, prepareSubPath } from './volumes.js';

let dir: string;
let volume: string;
let outside: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-subpath-'));
  volume = path.join(dir, 'pods', 'uid', 'volumes', 'data');
  outside = path.join(dir, 'outside');
  fs.mkdirSync(volume, { recursive: true });
  fs.mkdirSync(outside);
  fs.chmodSync(volume, 0o777);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const refused = (subPath: string): string => {
  try {
    prepareSubPath(volume, subPath, 'data', 'app');
  } catch (err) {
    expect(err).toBeInstanceOf(ContainerConfigError);
    return (err as Error).message;
  }
  throw new Error(`subPath ${subPath} was accepted`);
};

describe('subPath on the node (upstream kubelet makeMounts)', () => {
  it('makes a missing subPath inside the volume, with the volume mode whatever the umask', () => {
    const old = process.umask(0o077);
    try {
      expect(prepareSubPath(volume, 'a/b', 'data', 'app')).toBe(path.join(fs.realpathSync(volume), 'a', 'b'));
    } finally {
      process.umask(old);
    }
    expect(fs.statSync(path.join(volume, 'a', 'b')).mode & 0o777).toBe(0o777);
  });

  it('refuses .. and absolute paths with the kubelet messages, creating nothing', () => {
    expect(refused('../../../../outside/x')).toBe(
      "unable to provision SubPath `../../../../outside/x`: must not contain '..'",
    );
    expect(refused('/etc')).toBe('error SubPath `/etc` must not be an absolute path');
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('refuses a subPath through a symlink that leads out of the volume (one the container made), creating nothing', () => {
    fs.symlinkSync(outside, path.join(volume, 'escape'));
    expect(refused('escape/x')).toBe('failed to prepare subPath for volumeMount "data" of container "app"');
    expect(refused('escape')).toBe('failed to prepare subPath for volumeMount "data" of container "app"');
    fs.symlinkSync('/nonexistent-kubemu', path.join(volume, 'dangling'));
    expect(refused('dangling/x')).toBe('failed to prepare subPath for volumeMount "data" of container "app"');
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('follows a symlink that stays inside the volume, and mounts its target', () => {
    fs.mkdirSync(path.join(volume, 'real'));
    fs.symlinkSync('real', path.join(volume, 'link'));
    expect(prepareSubPath(volume, 'link/x', 'data', 'app')).toBe(
      path.join(fs.realpathSync(volume), 'real', 'x'),
    );
  });

  it('expands subPathExpr from the container environment; a missing variable is a config error', () => {
    const pod: Pod = {
      spec: {
        volumes: [{ name: 'data', emptyDir: {} }],
        containers: [
          {
            name: 'app',
            volumeMounts: [{ name: 'data', mountPath: '/data', subPathExpr: '$(POD_NAME)/logs' }],
          },
        ],
      },
    };
    const paths = new Map([['data', volume]]);
    const [mount] = containerMounts(pod, pod.spec!.containers[0], paths, new Map([['POD_NAME', 'web-0']]));
    expect(mount.hostPath).toBe(path.join(fs.realpathSync(volume), 'web-0', 'logs'));
    expect(() => containerMounts(pod, pod.spec!.containers[0], paths, new Map())).toThrow(
      new ContainerConfigError('missing value for POD_NAME'),
    );
    // an expansion that climbs out is refused on the node too
    expect(() =>
      containerMounts(pod, pod.spec!.containers[0], paths, new Map([['POD_NAME', '../../../../outside']])),
    ).toThrow("must not contain '..'");
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});
