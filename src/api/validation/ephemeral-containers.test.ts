import type { EphemeralContainer, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { validatePodCreate, validatePodEphemeralContainersUpdate } from './ephemeral-containers.js';

const base = (): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', resourceVersion: '7' },
  spec: {
    restartPolicy: 'Always',
    dnsPolicy: 'ClusterFirst',
    containers: [
      { name: 'app', image: 'nginx', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' },
    ],
  },
});

const debuggerContainer = {
  name: 'debugger-x',
  image: 'busybox',
  targetContainerName: 'app',
  imagePullPolicy: 'IfNotPresent',
  terminationMessagePolicy: 'File',
};

const withEphemeral = (containers: object[]): Pod => {
  const p = base();
  p.spec!.ephemeralContainers = containers as EphemeralContainer[];
  return p;
};

const fields = (errs: { field: string; type: string; detail?: string }[]) =>
  errs.map((e) => `${e.type} ${e.field}${e.detail ? `: ${e.detail.trim()}` : ''}`);

describe('ephemeral containers validation', () => {
  it('accepts a new ephemeral container that targets a container of the pod', () => {
    expect(validatePodEphemeralContainersUpdate(withEphemeral([debuggerContainer]), base())).toEqual([]);
  });

  it('refuses to change or remove an existing one', () => {
    const old = withEphemeral([debuggerContainer]);
    const changed = withEphemeral([{ ...debuggerContainer, image: 'alpine' }]);
    expect(fields(validatePodEphemeralContainersUpdate(changed, old))).toEqual([
      'FieldValueForbidden spec.ephemeralContainers: existing ephemeral containers "debugger-x" may not be changed',
    ]);
    expect(fields(validatePodEphemeralContainersUpdate(base(), old))).toEqual([
      'FieldValueForbidden spec.ephemeralContainers: existing ephemeral containers "debugger-x" may not be removed',
    ]);
  });

  it('refuses an unknown target, a taken name, and the fields only workload containers may have', () => {
    const bad = withEphemeral([
      {
        ...debuggerContainer,
        name: 'app',
        targetContainerName: 'nope',
        ports: [{ containerPort: 80 }],
        readinessProbe: { exec: { command: ['true'] } },
        volumeMounts: [],
      },
    ]);
    const out = fields(validatePodEphemeralContainersUpdate(bad, base()));
    expect(out).toContain('FieldValueDuplicate spec.ephemeralContainers[0].name');
    expect(out).toContain('FieldValueNotFound spec.ephemeralContainers[0].targetContainerName');
    expect(out).toContain(
      'FieldValueForbidden spec.ephemeralContainers[0].ports: cannot be set for an Ephemeral Container',
    );
    expect(out).toContain(
      'FieldValueForbidden spec.ephemeralContainers[0].readinessProbe: cannot be set for an Ephemeral Container',
    );
  });

  it('refuses ephemeral containers on create and on static pods', () => {
    expect(fields(validatePodCreate(withEphemeral([debuggerContainer])))).toEqual([
      'FieldValueForbidden spec.ephemeralContainers: cannot be set on create',
    ]);
    const mirror = base();
    mirror.metadata!.annotations = { 'kubernetes.io/config.mirror': 'x' };
    const next = withEphemeral([debuggerContainer]);
    next.metadata!.annotations = { 'kubernetes.io/config.mirror': 'x' };
    expect(fields(validatePodEphemeralContainersUpdate(next, mirror))).toEqual([
      'FieldValueForbidden : static pods do not support ephemeral containers',
    ]);
  });
});
