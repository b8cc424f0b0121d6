// A user as `kubemu kubeconfig --user NAME --group G…` makes one (a client certificate of the cluster CA), with the
// certificate and key also written out as files for curl's --cert/--key.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type TestCluster } from './cluster.js';
import { kubectlBin } from './kubectl.js';

export interface UserCertificate {
  kubeconfig: string;
  /** `['--cert', FILE, '--key', FILE]` */
  curlArgs: string[];
}

export async function userCertificate(
  c: TestCluster,
  dir: string,
  user: string,
  groups: string[] = [],
): Promise<UserCertificate> {
  const kubeconfig = join(dir, `${user}.kubeconfig`);
  const made = await c.kubemu([
    ...['kubeconfig', '--name', c.name, '--state-dir', c.stateDir, '--user', user],
    ...groups.flatMap((g) => ['--group', g]),
    ...['-o', kubeconfig],
  ]);
  if (made.code !== 0) throw new Error(`kubemu kubeconfig --user ${user}: ${made.stderr}`);
  const field = async (f: string): Promise<string> => {
    const r = await run(
      kubectlBin(),
      ['--kubeconfig', kubeconfig, 'config', 'view', '--raw', '-o', `jsonpath={.users[0].user.${f}}`],
      process.env,
    );
    return Buffer.from(r.stdout, 'base64').toString('utf8');
  };
  const cert = join(dir, `${user}.crt`);
  const key = join(dir, `${user}.key`);
  writeFileSync(cert, await field('client-certificate-data'));
  writeFileSync(key, await field('client-key-data'), { mode: 0o600 });
  return { kubeconfig, curlArgs: ['--cert', cert, '--key', key] };
}
