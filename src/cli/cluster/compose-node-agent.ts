// The cluster-side half of `kubemu node add|remove` for the Docker Compose cluster (compose-nodes.ts runs it with
// `docker exec` in the apiserver's container, whose network and state volume are the cluster's):
//   node /app/dist/cli/cluster/compose-node-agent.js prepare NAME INDEX CLUSTER   credentials, certificate, process file
//   node /app/dist/cli/cluster/compose-node-agent.js wait-ready NAME SINCE_MS DEADLINE_MS  until the Node is Ready
//   node /app/dist/cli/cluster/compose-node-agent.js delete NAME                   DELETE the Node (gone already is fine)
// It uses the code `kubemu up` and docker/init.mjs use, so a node added later is made like the first ones.
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureTokenFile } from '../../apiserver/auth/token-file.js';
import { ensureKubeletServingCertificate, readCertificateAuthority } from '../../util/pki.js';
import { deleteObject, getJson, readyHeartbeat, type ApiTarget } from './api.js';
import { planNodeComponents, type ClusterSettings } from './components.js';
import { composeProcessFile } from './compose-files.js';
import { clusterPaths, kubeletCertDir, nodeLayout } from './layout.js';
import type { Node } from 'kubernetes-types/core/v1.js';

const env = process.env;
const stateDir = env['KUBEMU_STATE_DIR'] || '/var/lib/kubemu';
const port = Number(env['KUBEMU_API_PORT'] || '6443');
const apiServerUrl = `https://127.0.0.1:${port}`;

function adminTarget(agent?: Agent): ApiTarget {
  const { adminToken } = ensureTokenFile(stateDir);
  const ca = readFileSync(clusterPaths(stateDir).caCert, 'utf8');
  return { url: apiServerUrl, ca, token: adminToken, ...(agent ? { agent } : {}) };
}

/** the node's serving certificate, its token and kubeconfigs, and <state>/compose/NAME.json; returns its IP */
async function prepare(name: string, index: number, cluster: string): Promise<string> {
  const node = nodeLayout(stateDir, index, name);
  const ca = readCertificateAuthority(clusterPaths(stateDir).pki);
  if (!ca) throw new Error(`no cluster CA in ${clusterPaths(stateDir).pki}: has init run?`);
  await ensureKubeletServingCertificate(ca, kubeletCertDir(node), node);
  const settings: ClusterSettings = {
    name: cluster,
    stateDir,
    apiServerUrl,
    port,
    kubeletPort: Number(env['KUBEMU_KUBELET_PORT'] || '10250'),
    nodes: [node],
    cpu: env['KUBEMU_NODE_CPU'] || '2',
    memory: env['KUBEMU_NODE_MEMORY'] || '4Gi',
  };
  const procs = planNodeComponents(settings, ca.certPem, node);
  const file = composeProcessFile(procs, stateDir, process.execPath, env['KUBEMU_LOG_LEVEL'] || 'info', node);
  writeFileSync(join(stateDir, 'compose', `${name}.json`), file);
  return node.ip;
}

/** until the Node reports Ready with a heartbeat from after `since` (its new kubelet's, not a former one's) */
async function waitReady(name: string, since: number, deadline: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = adminTarget(agent);
  let last = 'not registered';
  try {
    for (;;) {
      const node = await getJson<Node>(target, `/api/v1/nodes/${name}`, 10_000).catch((err: Error) => {
        last = /HTTP 404/.test(err.message) ? 'not registered' : err.message;
        return undefined;
      });
      const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
      if (node) last = `Ready=${ready?.status ?? 'none'}${ready?.reason ? ` (${ready.reason})` : ''}`;
      if (node && ready?.status === 'True' && readyHeartbeat(node) >= Math.floor(since / 1000) * 1000) return;
      if (Date.now() > deadline)
        throw new Error(`not Ready within ${Math.round((deadline - since) / 1000)} s (${last})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    agent.destroy();
  }
}

export async function agentMain(argv: string[]): Promise<string> {
  const [action, name, ...rest] = argv;
  if (!name) throw new Error('usage: compose-node-agent prepare|wait-ready|delete NAME ...');
  if (action === 'prepare') return prepare(name, Number(rest[0]), rest[1] ?? 'kubemu');
  if (action === 'wait-ready') {
    await waitReady(name, Number(rest[0]), Number(rest[1]));
    return '';
  }
  if (action === 'delete') {
    await deleteObject(adminTarget(), `/api/v1/nodes/${name}`);
    return '';
  }
  throw new Error(`compose-node-agent: unknown action "${action}"`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  agentMain(process.argv.slice(2)).then(
    (out) => {
      if (out) process.stdout.write(`${out}\n`);
    },
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
