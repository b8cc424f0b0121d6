// The dns container's first step (compose.yaml), as `kubemu up --network=netns` does it: Service kube-system/kube-dns
// on 10.96.0.10 in front of the DNS server at the control plane's address (PREFIX.0.2:53), which the nodes'
// kube-proxies forward the pods' queries to. The apiserver is healthy before this container starts.
import { readFileSync } from 'node:fs';
import { ensureTokenFile } from '/app/dist/apiserver/auth/token-file.js';
import { composeAddresses, composeNetPrefix } from '/app/dist/cli/cluster/compose-network.js';
import { clusterPaths } from '/app/dist/cli/cluster/layout.js';
import { ensureKubeDns } from '/app/dist/cli/cluster/netns-dns.js';

const stateDir = process.env.KUBEMU_STATE_DIR || '/var/lib/kubemu';
const port = Number(process.env.KUBEMU_API_PORT || '6443');
const { controlPlane } = composeAddresses(composeNetPrefix());
const target = {
  url: `https://${controlPlane}:${port}`,
  ca: readFileSync(clusterPaths(stateDir).caCert, 'utf8'),
  token: ensureTokenFile(stateDir).adminToken,
};
for (let attempt = 1; ; attempt++) {
  try {
    await ensureKubeDns(target, controlPlane);
    break;
  } catch (err) {
    if (attempt >= 120) throw err;
    if (attempt % 10 === 1) console.error(`kube-dns: ${err.message}; retrying`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
console.log(`kube-dns: Service kube-system/kube-dns (10.96.0.10) -> ${controlPlane}:53`);
