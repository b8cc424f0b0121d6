// `kubemu kubeconfig --user NAME --group G`: a kubeconfig for a user, with an X.509 client certificate signed by
// the cluster's CA (CN=NAME, O=each group), as `kubeadm kubeconfig user --client-name NAME --org G` makes one. The
// apiserver's x509 authenticator reads it as user NAME in those groups; what they may do is RBAC's to say.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCertificate, readCertificateAuthority } from '../util/pki.js';
import { yaml } from '../util/lazy-yaml.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { CliError } from './cli-error.js';

export interface UserKubeconfigOptions {
  /** the cluster's name (kubemu-NAME in kubeconfigs) */
  clusterName: string;
  stateDir: string;
  user: string;
  groups: string[];
  validityDays: number;
}

function apiServerUrl(stateDir: string): string {
  try {
    const record = JSON.parse(readFileSync(join(stateDir, 'apiserver.json'), 'utf8')) as { url?: string };
    if (record.url) return record.url;
  } catch {
    // reported below
  }
  throw new CliError(
    `kubemu kubeconfig: no apiserver address in ${stateDir}: start the cluster with 'kubemu up' first`,
    1,
  );
}

/** The kubeconfig's YAML text. */
export async function userKubeconfig(opts: UserKubeconfigOptions): Promise<string> {
  if (!opts.user.trim()) throw new CliError('kubemu kubeconfig: --user must not be empty', 2);
  const ca = readCertificateAuthority(join(opts.stateDir, 'pki'));
  if (!ca)
    throw new CliError(
      `kubemu kubeconfig: no usable cluster CA in ${join(opts.stateDir, 'pki')}: start the cluster with 'kubemu up' first`,
      1,
    );
  const server = apiServerUrl(opts.stateDir);
  const { certPem, keyPem } = await issueCertificate(ca, {
    commonName: opts.user,
    organization: opts.groups,
    usages: ['client'],
    validityDays: opts.validityDays,
  });
  const cluster = `kubemu-${opts.clusterName}`;
  const context = `${opts.user}@${cluster}`;
  const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
  return yaml().stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server, 'certificate-authority-data': b64(ca.certPem) } }],
    users: [
      { name: opts.user, user: { 'client-certificate-data': b64(certPem), 'client-key-data': b64(keyPem) } },
    ],
    contexts: [{ name: context, context: { cluster, user: opts.user } }],
    'current-context': context,
  });
}

/** writes the kubeconfig to `file` (mode 0600) or returns it for stdout */
export async function writeUserKubeconfig(
  opts: UserKubeconfigOptions,
  file?: string,
): Promise<string | undefined> {
  const text = await userKubeconfig(opts);
  if (!file) return text;
  writeFileAtomic(file, text, 0o600);
  return undefined;
}
