// A compose container's network, before its components start (compose.yaml runs it, then pm2-runtime):
//   node /app/docker/net-setup.mjs node           node NODE_INDEX: /proc/sys writable, cni0 for its pods, routes to
//                                                 the other nodes' podCIDRs, the masquerade of what its pods send
//                                                 outside them
//   node /app/docker/net-setup.mjs control-plane  routes to every node's podCIDR (the ingress connects to pod IPs)
// The plan is src/cli/cluster/compose-network.ts's; the pod bridge is made as `kubemu up --network=netns` makes it.
import { execFileSync } from 'node:child_process';
import {
  composeControlPlaneIpBatch,
  composeNetPrefix,
  composeNodeIpBatch,
  composeNodeMasquerade,
} from '/app/dist/cli/cluster/compose-network.js';
import { POD_BRIDGE } from '/app/dist/netns/node-net.js';

const run = (cmd, args, input) => execFileSync(cmd, args, { input, stdio: ['pipe', 'inherit', 'inherit'] });
const role = process.argv[2];
const prefix = composeNetPrefix();
if (role === 'node') {
  const index = Number(process.env.NODE_INDEX);
  // Docker mounts /proc/sys read-only; each pod's namespace sets its own net sysctls (src/netns/pod-net.ts)
  run('mount', ['-o', 'remount,rw,bind', '/proc/sys']);
  let lines = composeNodeIpBatch(prefix, index);
  // a restarted container may keep its namespace: cni0 made once, routes replaced
  const hasBridge = (() => {
    try {
      execFileSync('ip', ['link', 'show', POD_BRIDGE], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (hasBridge) lines = lines.filter((l) => !l.includes(POD_BRIDGE));
  run('ip', ['-batch', '-'], `${lines.join('\n')}\n`);
  run('nft', ['-f', '-'], composeNodeMasquerade());
  console.log(`net-setup: node ${index}: ${POD_BRIDGE} and routes to the other nodes' pods`);
} else if (role === 'control-plane') {
  run('ip', ['-batch', '-'], `${composeControlPlaneIpBatch(prefix).join('\n')}\n`);
  console.log("net-setup: control plane: routes to the nodes' pods");
} else {
  console.error('usage: node /app/docker/net-setup.mjs node|control-plane');
  process.exit(2);
}
