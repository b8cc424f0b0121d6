// The Website controller: informers on Websites and on the Deployments and Services it made, a work queue of
// Website keys, and a reconcile that makes the Deployment and Service of each Website match it (server-side apply,
// owned by the Website so that deleting it deletes them) and writes its status through the status subresource.
// It runs in a pod: loadFromCluster() reads the ServiceAccount token and CA the kubelet mounts.
import * as k8s from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type Condition, type Website, type WebsiteStatus } from './website.js';

const FIELD_MANAGER = 'website-operator';
/** the label on every child, naming its Website */
const WEBSITE_LABEL = 'example.com/website';

if (!process.env.KUBERNETES_SERVICE_HOST) {
  console.error('website-operator runs in a pod: KUBERNETES_SERVICE_HOST is not set');
  process.exit(1);
}
const kc = new k8s.KubeConfig();
kc.loadFromCluster();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const core = kc.makeApiClient(k8s.CoreV1Api);
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
const watch = new k8s.Watch(kc);

const websites = new k8s.ListWatch<Website>(
  `/apis/${GROUP}/${VERSION}/${PLURAL}`,
  watch,
  () => custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }),
  false,
);
const deployments = new k8s.ListWatch<k8s.V1Deployment>(
  '/apis/apps/v1/deployments',
  watch,
  () => apps.listDeploymentForAllNamespaces({ labelSelector: WEBSITE_LABEL }),
  false,
  WEBSITE_LABEL,
);
const services = new k8s.ListWatch<k8s.V1Service>(
  '/api/v1/services',
  watch,
  () => core.listServiceForAllNamespaces({ labelSelector: WEBSITE_LABEL }),
  false,
  WEBSITE_LABEL,
);

// --- the work queue: a key is queued once however many events name it, and reconciled by one worker at a time
const queue = new Set<string>();
let working = false;
function enqueue(namespace: string | undefined, name: string | undefined): void {
  if (!namespace || !name) return;
  queue.add(`${namespace}/${name}`);
  void work();
}
async function work(): Promise<void> {
  if (working) return;
  working = true;
  try {
    for (let key = first(); key !== undefined; key = first()) {
      queue.delete(key);
      const started = Date.now();
      try {
        const did = await reconcile(key);
        if (did.length) console.log(`reconciled ${key} in ${Date.now() - started} ms: ${did.join(', ')}`);
      } catch (err) {
        console.error(`reconcile ${key} failed, retrying in 1 s: ${describe(err)}`);
        setTimeout(() => enqueue(...splitKey(key)), 1000);
      }
    }
  } finally {
    working = false;
  }
}
const first = (): string | undefined => queue.values().next().value;
const splitKey = (key: string): [string, string] => key.split('/', 2) as [string, string];
const describe = (err: unknown): string =>
  err instanceof k8s.ApiException ? `${err.code} ${String(err.body)}` : String(err);

/** the Website that owns obj, from its owner references */
function ownerOf(obj: k8s.KubernetesObject): string | undefined {
  return obj.metadata?.ownerReferences?.find(
    (o) => o.kind === 'Website' && o.apiVersion === `${GROUP}/${VERSION}`,
  )?.name;
}

// --- reconcile

function desiredDeployment(site: Website): k8s.V1Deployment {
  const name = site.metadata!.name!;
  const labels = { [WEBSITE_LABEL]: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: site.metadata!.namespace!, labels, ownerReferences: [ownerRef(site)] },
    spec: {
      replicas: site.spec.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'kubemu/hello:v1',
              env: [{ name: 'MESSAGE', value: site.spec.message }],
              ports: [{ containerPort: 8080, name: 'http' }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

function desiredService(site: Website): k8s.V1Service {
  const name = site.metadata!.name!;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: site.metadata!.namespace!,
      labels: { [WEBSITE_LABEL]: name },
      ownerReferences: [ownerRef(site)],
    },
    spec: {
      selector: { [WEBSITE_LABEL]: name },
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
    },
  };
}

function ownerRef(site: Website): k8s.V1OwnerReference {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Website',
    name: site.metadata!.name!,
    uid: site.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** server-side apply: creates the object or makes the fields this controller owns match */
const apply = (obj: k8s.KubernetesObject): Promise<k8s.KubernetesObject> =>
  objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);

const messageOf = (d: k8s.V1Deployment | undefined): string | undefined =>
  d?.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'MESSAGE')?.value;

/** makes the Website's children and status match it; returns what it changed */
async function reconcile(key: string): Promise<string[]> {
  const [namespace, name] = splitKey(key);
  const site = websites.get(name, namespace);
  // a deleted Website: the garbage collector deletes its children (they name it as their owner)
  if (!site || site.metadata?.deletionTimestamp) return [];
  const did: string[] = [];

  // the Deployment and the Service are independent: applied together
  const applies: Promise<unknown>[] = [];
  const current = deployments.get(name, namespace);
  if (
    !current ||
    ownerOf(current) !== name ||
    current.spec?.replicas !== (site.spec.replicas ?? 1) ||
    messageOf(current) !== site.spec.message
  ) {
    applies.push(apply(desiredDeployment(site)));
    did.push(current ? 'deployment updated' : 'deployment created');
  }
  const currentService = services.get(name, namespace);
  if (!currentService || ownerOf(currentService) !== name) {
    applies.push(apply(desiredService(site)));
    did.push(currentService ? 'service updated' : 'service created');
  }
  await Promise.all(applies);

  const status = statusOf(site, deployments.get(name, namespace));
  if (statusChanged(site.status, status)) {
    await custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: { status } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    did.push(`status ${status.readyReplicas ?? 0}/${site.spec.replicas ?? 1} ready`);
  }
  return did;
}

function statusOf(site: Website, deployment: k8s.V1Deployment | undefined): WebsiteStatus {
  const want = site.spec.replicas ?? 1;
  const ready = deployment?.status?.readyReplicas ?? 0;
  const rolledOut =
    deployment !== undefined &&
    messageOf(deployment) === site.spec.message &&
    (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    (deployment.status?.updatedReplicas ?? 0) === want &&
    ready === want &&
    (deployment.status?.replicas ?? 0) === want;
  const previous = site.status?.conditions?.find((c) => c.type === 'Ready');
  const condition: Condition = rolledOut
    ? { type: 'Ready', status: 'True', reason: 'RolledOut', message: `${ready} of ${want} replicas ready` }
    : {
        type: 'Ready',
        status: 'False',
        reason: 'Progressing',
        message: `${ready} of ${want} replicas ready`,
      };
  condition.lastTransitionTime =
    previous?.status === condition.status && previous.lastTransitionTime
      ? previous.lastTransitionTime
      : new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    observedGeneration: site.metadata?.generation ?? 0,
    readyReplicas: ready,
    conditions: [condition],
  };
}

function statusChanged(a: WebsiteStatus | undefined, b: WebsiteStatus): boolean {
  const ca = a?.conditions?.find((c) => c.type === 'Ready');
  const cb = b.conditions?.[0];
  return (
    a?.observedGeneration !== b.observedGeneration ||
    a?.readyReplicas !== b.readyReplicas ||
    ca?.status !== cb?.status ||
    ca?.reason !== cb?.reason ||
    ca?.message !== cb?.message
  );
}

// --- wiring: every event on a Website, or on a child of one, queues that Website

for (const verb of ['add', 'update'] as const)
  websites.on(verb, (w) => enqueue(w.metadata?.namespace, w.metadata?.name));
for (const informer of [deployments, services] as k8s.ListWatch<k8s.KubernetesObject>[]) {
  for (const verb of ['add', 'update', 'delete'] as const)
    informer.on(verb, (o) => enqueue(o.metadata?.namespace, ownerOf(o)));
}
// a watch that ends with an error is not restarted by the informer itself: start it again after a second
for (const [what, informer] of [
  ['websites', websites],
  ['deployments', deployments],
  ['services', services],
] as const) {
  informer.on('error', (err: unknown) => {
    console.error(`watch of ${what} failed, restarting in 1 s: ${describe(err)}`);
    setTimeout(() => void informer.start().catch(() => undefined), 1000);
  });
}

// the children first, so that the first reconcile of each Website sees them
await Promise.all([deployments.start(), services.start()]);
await websites.start();
console.log('website-operator started: watching websites, deployments, services');
process.on('SIGTERM', () => process.exit(0));
