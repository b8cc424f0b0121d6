// The compose cluster's one-shot `init`: PKI, token file and component kubeconfigs in the state volume, one pm2-runtime
// process file per service (<state>/compose/<service>.json), and the admin kubeconfig for the user (./.kubemu/).
// Idempotent: runs on every `docker compose up` and keeps what exists. Uses the same code as `kubemu up`.
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureTokenFile } from '/app/dist/apiserver/auth/token-file.js';
import {
  apiServerProcess,
  ensureKubeletCertificates,
  planComponents,
} from '/app/dist/cli/cluster/components.js';
import { composeProcessFile } from '/app/dist/cli/cluster/compose-files.js';
import { clusterPaths, nodeLayout } from '/app/dist/cli/cluster/layout.js';
import { writeKubeconfig } from '/app/dist/util/kubeconfig.js';
import { ensureClusterPki } from '/app/dist/util/pki.js';

const env = process.env;
const name = env.KUBEMU_CLUSTER_NAME || 'kubemu';
const stateDir = env.KUBEMU_STATE_DIR || '/var/lib/kubemu';
const nodes = Number(env.KUBEMU_NODES || '3');
const port = Number(env.KUBEMU_API_PORT || '6443');
const out = env.KUBEMU_KUBECONFIG_OUT || '/out/kubeconfig';
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 254)
  throw new Error(`KUBEMU_NODES=${env.KUBEMU_NODES}: 1..254`);

mkdirSync(stateDir, { recursive: true, mode: 0o700 });
const settings = {
  name,
  stateDir,
  apiServerUrl: `https://127.0.0.1:${port}`,
  port,
  kubeletPort: Number(env.KUBEMU_KUBELET_PORT || '10250'),
  nodes: Array.from({ length: nodes }, (_, i) => nodeLayout(stateDir, i + 1)),
  cpu: env.KUBEMU_NODE_CPU || '2',
  memory: env.KUBEMU_NODE_MEMORY || '4Gi',
};
const pki = await ensureClusterPki(clusterPaths(stateDir).pki, { hosts: ['127.0.0.1'] });
await ensureKubeletCertificates(settings, pki.ca);
const { adminToken } = ensureTokenFile(stateDir);

// service name -> the processes pm2-runtime runs in that container (a node's: its kubelet and kube-proxy)
const services = new Map();
const add = (service, proc, node) =>
  services.set(service, { node, procs: [...(services.get(service)?.procs ?? []), proc] });
add('apiserver', apiServerProcess(settings));
for (const p of planComponents(settings, pki.caCertPem)) {
  const node = settings.nodes.find((n) => p.name.endsWith(`-${n.name}`));
  add(node ? node.name : p.name, p, node);
}
const dir = join(stateDir, 'compose');
mkdirSync(dir, { recursive: true });
const logLevel = env.KUBEMU_LOG_LEVEL || 'info';
for (const [service, { procs, node }] of services) {
  const text = composeProcessFile(procs, stateDir, process.execPath, logLevel, node);
  writeFileSync(join(dir, `${service}.json`), text);
}

// the user's kubeconfig, owned by whoever owns the bind-mounted directory so they can read it
mkdirSync(dirname(out), { recursive: true });
writeKubeconfig(out, {
  name,
  server: settings.apiServerUrl,
  caPem: pki.caCertPem,
  token: adminToken,
  setCurrent: true,
});
const owner = statSync(dirname(out));
chownSync(out, owner.uid, owner.gid);
console.log(`kubemu init: cluster "${name}", ${nodes} node(s); services: ${[...services.keys()].join(', ')}`);
console.log(`kubemu init: admin kubeconfig written; on the host: export KUBECONFIG=$PWD/.kubemu/kubeconfig`);
