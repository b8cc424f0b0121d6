// The Docker Compose cluster's pm2-runtime process files (<state>/compose/<service>.json): what docker/init.mjs writes
// for every service and `kubemu node add` (compose) for a new node container.
import type { NodeLayout } from './layout.js';
import type { PlannedProcess } from './components.js';

/** metrics/healthz ports, so each container's healthcheck has something to ask (upstream's ports) */
export function composeMetricsArgs(command: string, node: NodeLayout | undefined): string[] {
  if (command === 'controller-manager') return ['--metrics-port', '10257'];
  if (command === 'scheduler') return ['--metrics-port', '10259'];
  if (command === 'kube-proxy' && node) return ['--metrics-port', '10256', '--metrics-host', node.ip];
  return [];
}

/** one pm2-runtime app per process, run by the image's node from /app/dist, restarted as `kubemu up`'s pm2 does */
export function composeProcessFile(
  procs: readonly PlannedProcess[],
  stateDir: string,
  nodeBinary: string,
  logLevel: string,
  node?: NodeLayout,
): string {
  const apps = procs.map((p) => ({
    name: p.name,
    script: nodeBinary,
    interpreter: 'none',
    args: ['/app/dist/cli/main.js', ...p.argv, ...composeMetricsArgs(p.argv[0], node)],
    cwd: stateDir,
    env: { KUBEMU_LOG_LEVEL: logLevel },
    autorestart: true,
    restart_delay: 500,
    min_uptime: 1000,
    max_restarts: 10,
    kill_timeout: 3000,
  }));
  return `${JSON.stringify({ apps }, null, 2)}\n`;
}
