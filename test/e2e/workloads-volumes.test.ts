// Volumes that outlive pods (issue #22), from a user's side with the real kubectl against one 2-node `kubemu up`
// cluster: the docs task "Configure a Pod to Use a PersistentVolume for Storage" (task-pv-volume, task-pv-claim,
// task-pv-pod; the hostPath moved from /mnt/data into a temp dir, the image nginx → kubemu/hello), a claim of the
// default StorageClass provisioned by the built-in local-path provisioner on the pod's node, data surviving the
// pod's deletion and recreation, a pod whose claim cannot be bound staying Pending with upstream's message, a
// generic ephemeral volume (the docs' my-app) and an emptyDir with medium Memory (the docs' test-pd).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/apiserver.js';
import { upCluster, type TestCluster } from '../helpers/cluster.js';

const EXAMPLES = join(ROOT, 'test/fixtures/k8s-docs-examples');
const example = (file: string): string => readFileSync(join(EXAMPLES, file), 'utf8');

let c: TestCluster;
let hostDir: string;

beforeAll(async () => {
  hostDir = mkdtempSync(join(tmpdir(), 'kubemu-pv-'));
  c = await upCluster({ nodes: 2 });
}, 180_000);

afterAll(async () => {
  await c?.down();
  if (hostDir) rmSync(hostDir, { recursive: true, force: true });
});

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await c.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const apply = (yaml: string): Promise<string> => kubectlOk(['apply', '-f', '-'], yaml);

async function waitPhase(kind: string, name: string, phase: string, ms = 60_000): Promise<void> {
  await c.waitFor(
    `${kind}/${name} ${phase}`,
    async () => (await c.getJson(['get', kind, name])).status?.phase === phase,
    ms,
  );
}

// pods/storage/pv-pod.yaml of the docs, nginx → kubemu/hello
const TASK_PV_POD = `apiVersion: v1
kind: Pod
metadata:
  name: task-pv-pod
spec:
  volumes:
    - name: task-pv-storage
      persistentVolumeClaim:
        claimName: task-pv-claim
  containers:
    - name: task-pv-container
      image: kubemu/hello:v1
      ports:
        - containerPort: 80
          name: "http-server"
      volumeMounts:
        - mountPath: "/usr/share/nginx/html"
          name: task-pv-storage
`;

/** a claim of the default class, as a user writes one: no storageClassName */
const DYNAMIC_CLAIM = `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes:
    - ReadWriteOnce
  resources:
    requests:
      storage: 1Gi
`;

const busyboxWithClaim = (name: string, script: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
    - name: app
      image: busybox:1.28
      command: ["sh", "-c", ${JSON.stringify(script)}]
      volumeMounts:
        - mountPath: /data
          name: data
  volumes:
    - name: data
      persistentVolumeClaim:
        claimName: data
`;

describe('volumes that outlive pods', () => {
  it('installs the default StorageClass `standard` (rancher.io/local-path, WaitForFirstConsumer, Delete)', async () => {
    const out = await kubectlOk(['get', 'storageclass']);
    expect(out).toMatch(
      /^standard \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s/m,
    );
  });

  it('the docs task: task-pv-volume and task-pv-claim are Bound and task-pv-pod serves the file written on the node', async () => {
    const data = join(hostDir, 'mnt/data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'index.html'), 'Hello from Kubernetes storage\n');
    await apply(example('pods__storage__pv-volume.yaml').replace('path: /mnt/data', `path: ${data}`));
    const pv = await kubectlOk(['get', 'pv', 'task-pv-volume']);
    expect(pv).toMatch(/task-pv-volume\s+10Gi\s+RWO\s+Retain\s+Available\s+manual/);
    await apply(example('pods__storage__pv-claim.yaml'));
    await waitPhase('pvc', 'task-pv-claim', 'Bound');
    const both = await kubectlOk(['get', 'pv,pvc']);
    expect(both).toMatch(
      /persistentvolume\/task-pv-volume\s+10Gi\s+RWO\s+Retain\s+Bound\s+default\/task-pv-claim\s+manual/,
    );
    expect(both).toMatch(
      /persistentvolumeclaim\/task-pv-claim\s+Bound\s+task-pv-volume\s+10Gi\s+RWO\s+manual/,
    );
    await apply(TASK_PV_POD);
    await waitPhase('pod', 'task-pv-pod', 'Running');
    expect(await kubectlOk(['exec', 'task-pv-pod', '--', 'cat', '/usr/share/nginx/html/index.html'])).toBe(
      'Hello from Kubernetes storage\n',
    );
    // the docs' clean-up: pod, claim; the Retain volume is Released and keeps the data
    await kubectlOk(['delete', 'pod', 'task-pv-pod', '--wait=true']);
    await kubectlOk(['delete', 'pvc', 'task-pv-claim']);
    await waitPhase('pv', 'task-pv-volume', 'Released');
    expect(readFileSync(join(data, 'index.html'), 'utf8')).toBe('Hello from Kubernetes storage\n');
    await kubectlOk(['delete', 'pv', 'task-pv-volume']);
  });

  it('provisions a claim of the default class on the node of its first pod; the data survives the pod', async () => {
    await apply(DYNAMIC_CLAIM);
    const claim = await c.getJson(['get', 'pvc', 'data']);
    expect(claim.spec.storageClassName).toBe('standard');
    // no pod yet: the claim waits for its first consumer, and says so
    await c.waitFor('WaitForFirstConsumer event', async () =>
      (await kubectlOk(['describe', 'pvc', 'data'])).includes(
        'waiting for first consumer to be created before binding',
      ),
    );
    expect((await c.getJson(['get', 'pvc', 'data'])).status.phase).toBe('Pending');

    await apply(busyboxWithClaim('writer', 'echo "written by $HOSTNAME" > /data/out.txt && exec sleep 3600'));
    await waitPhase('pod', 'writer', 'Running');
    const node = (await c.getJson(['get', 'pod', 'writer'])).spec.nodeName as string;
    const bound = await c.getJson(['get', 'pvc', 'data']);
    expect(bound.status.phase).toBe('Bound');
    expect(bound.metadata.annotations['volume.kubernetes.io/selected-node']).toBe(node);
    const pvName = bound.spec.volumeName as string;
    expect(pvName).toBe(`pvc-${bound.metadata.uid}`);
    const pv = await c.getJson(['get', 'pv', pvName]);
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]).toEqual({
      key: 'kubernetes.io/hostname',
      operator: 'In',
      values: [node],
    });
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Delete');
    expect(pv.metadata.annotations['pv.kubernetes.io/provisioned-by']).toBe('rancher.io/local-path');
    // the volume is a directory on that node's disk, under its state dir
    const dir = pv.spec.hostPath.path as string;
    expect(dir.startsWith(join(c.stateDir, 'nodes', node, 'local-path'))).toBe(true);
    await c.waitFor('the file on the node', () => Promise.resolve(existsSync(join(dir, 'out.txt'))));
    expect(await kubectlOk(['get', 'pv,pvc'])).toMatch(
      new RegExp(`persistentvolumeclaim/data\\s+Bound\\s+${pvName}\\s+1Gi\\s+RWO\\s+standard`),
    );

    // delete the pod, make a new one: it lands on the same node (the PV's node affinity) and reads the old data
    await kubectlOk(['delete', 'pod', 'writer', '--wait=true']);
    await apply(busyboxWithClaim('reader', 'cat /data/out.txt && exec sleep 3600'));
    await waitPhase('pod', 'reader', 'Running');
    expect((await c.getJson(['get', 'pod', 'reader'])).spec.nodeName).toBe(node);
    const logs = await c.waitFor('reader log', async () => {
      const out = await kubectlOk(['logs', 'reader']);
      return out.includes('written by') ? out : undefined;
    });
    expect(logs).toBe('written by writer\n');

    // reclaim policy Delete: claim deleted → the PV and its directory go
    await kubectlOk(['delete', 'pod', 'reader', '--wait=true']);
    await kubectlOk(['delete', 'pvc', 'data']);
    await c.waitFor(
      'PV deleted',
      async () => (await c.kubectl(['get', 'pv', pvName])).stderr.includes('NotFound'),
      60_000,
    );
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(join(c.stateDir, 'nodes', node, 'local-path'))).toEqual([]);
  }, 240_000);

  it('a pod whose claim cannot be bound stays Pending with upstream scheduler message', async () => {
    // class "manual" has no StorageClass object: Immediate binding, and no PV of 100Gi exists
    await apply(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: too-big
spec:
  storageClassName: manual
  accessModes: ["ReadWriteOnce"]
  resources:
    requests:
      storage: 100Gi
`);
    await apply(
      TASK_PV_POD.replace('name: task-pv-pod', 'name: waiting-pod').replace(
        'claimName: task-pv-claim',
        'claimName: too-big',
      ),
    );
    const message = await c.waitFor('PodScheduled=False', async () => {
      const pod = await c.getJson(['get', 'pod', 'waiting-pod']);
      return pod.status?.conditions?.find((x: { type: string }) => x.type === 'PodScheduled')?.message as
        string | undefined;
    });
    expect(message).toBe(
      '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..',
    );
    const pod = await c.getJson(['get', 'pod', 'waiting-pod']);
    expect(pod.status.phase).toBe('Pending');
    expect(pod.spec.nodeName).toBeUndefined();
    expect(await kubectlOk(['describe', 'pod', 'waiting-pod'])).toMatch(
      /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/2 nodes are available: pod has unbound immediate PersistentVolumeClaims/,
    );
    await kubectlOk(['delete', 'pod', 'waiting-pod', '--wait=false']);
  });

  it('a generic ephemeral volume: the claim <pod>-<volume> is made for the pod, bound, and deleted with it', async () => {
    await apply(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: scratch-storage-class
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
`);
    // concepts/storage/ephemeral-volumes: my-app, busybox:1.28 as in the docs
    await apply(`kind: Pod
apiVersion: v1
metadata:
  name: my-app
spec:
  containers:
    - name: my-frontend
      image: busybox:1.28
      volumeMounts:
      - mountPath: "/scratch"
        name: scratch-volume
      command: [ "sleep", "1000000" ]
  volumes:
    - name: scratch-volume
      ephemeral:
        volumeClaimTemplate:
          metadata:
            labels:
              type: my-frontend-volume
          spec:
            accessModes: [ "ReadWriteOnce" ]
            storageClassName: "scratch-storage-class"
            resources:
              requests:
                storage: 1Gi
`);
    await waitPhase('pod', 'my-app', 'Running');
    const claim = await c.getJson(['get', 'pvc', 'my-app-scratch-volume']);
    expect(claim.status.phase).toBe('Bound');
    expect(claim.metadata.labels).toEqual({ type: 'my-frontend-volume' });
    const pod = await c.getJson(['get', 'pod', 'my-app']);
    expect(claim.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Pod', name: 'my-app', uid: pod.metadata.uid, controller: true }),
    ]);
    await kubectlOk(['exec', 'my-app', '--', 'sh', '-c', 'echo scratch > /scratch/f && cat /scratch/f']);
    const pvName = claim.spec.volumeName as string;
    await kubectlOk(['delete', 'pod', 'my-app', '--wait=true']);
    await c.waitFor(
      'claim and PV gone with the pod',
      async () =>
        (await c.kubectl(['get', 'pvc', 'my-app-scratch-volume'])).code !== 0 &&
        (await c.kubectl(['get', 'pv', pvName])).code !== 0,
      60_000,
    );
  });

  it('emptyDir medium Memory is on tmpfs (the docs test-pd)', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: test-pd
spec:
  containers:
  - image: kubemu/hello:v1
    name: test-container
    volumeMounts:
    - mountPath: /cache
      name: cache-volume
  volumes:
  - name: cache-volume
    emptyDir:
      sizeLimit: 500Mi
      medium: Memory
`);
    await waitPhase('pod', 'test-pd', 'Running');
    expect((await kubectlOk(['exec', 'test-pd', '--', 'stat', '-f', '-c', '%T', '/cache'])).trim()).toBe(
      'tmpfs',
    );
    await kubectlOk(['exec', 'test-pd', '--', 'sh', '-c', 'echo cached > /cache/x && cat /cache/x']);
    await kubectlOk(['delete', 'pod', 'test-pd', '--wait=false']);
  });

  it('an emptyDir over its sizeLimit gets its pod evicted, as upstream eviction manager does', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: too-much
spec:
  restartPolicy: Never
  containers:
  - name: fill
    image: busybox:1.28
    command: ["sh", "-c", "dd if=/dev/zero of=/cache/fill bs=1M count=4 && sleep 3600"]
    volumeMounts:
    - mountPath: /cache
      name: cache-volume
  volumes:
  - name: cache-volume
    emptyDir:
      sizeLimit: 1Mi
`);
    await waitPhase('pod', 'too-much', 'Failed');
    const pod = await c.getJson(['get', 'pod', 'too-much']);
    expect(pod.status.reason).toBe('Evicted');
    expect(pod.status.message).toBe('Usage of EmptyDir volume "cache-volume" exceeds the limit "1Mi". ');
    expect(pod.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet' }),
    );
    // upstream's printer shows the killed container's reason (Error) in `kubectl get`; describe shows the eviction
    const described = await kubectlOk(['describe', 'pod', 'too-much']);
    expect(described).toMatch(/^Status:\s+Failed$/m);
    expect(described).toMatch(/^Reason:\s+Evicted$/m);
    expect(described).toMatch(
      /Warning\s+Evicted\s+.*kubelet\s+Usage of EmptyDir volume "cache-volume" exceeds the limit "1Mi"/,
    );
    await kubectlOk(['delete', 'pod', 'too-much', '--wait=false']);
  });
});
