import { execFileSync } from 'node:child_process';
import { it } from 'vitest';
import { startApiServer } from './helpers/apiserver.js';
import { startComponent } from './helpers/process.js';
it('debug', async () => {
  const server = await startApiServer();
  const cm = startComponent('controller-manager', ['--kubeconfig', server.kubeconfig]);
  const k = (args: string[]) => {
    try {
      return execFileSync(
        '/usr/lib/google-cloud-sdk/bin/kubectl.1.33',
        ['--kubeconfig', server.kubeconfig, ...args],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (e: any) {
      return 'ERR ' + e.stderr + e.stdout;
    }
  };
  console.log(k(['create', 'namespace', 'shop']));
  console.log(k(['create', 'deployment', 'cart', '--image=kubemu/cart:v1', '--replicas=2', '-n', 'shop']));
  await new Promise((r) => setTimeout(r, 1500));
  console.log(k(['get', 'deploy', '-n', 'shop']));
  console.log(k(['get', 'deploy', '-n', 'shop', '-o', 'yaml', '--show-managed-fields']).slice(0, 3000));
  await cm.stop();
  await server.cleanup();
}, 60000);
