// `kubemu dashboard`: serves the cluster's dashboard on a local plain-HTTP URL (like `minikube dashboard`), through
// a proxy that holds the kubeconfig's credentials, until Ctrl-C.
import { spawn } from 'node:child_process';
import { startLocalProxy } from '../../dashboard/local-proxy.js';
import { contextName, readKubeconfig, type KubeconfigCredentials } from '../../util/kubeconfig.js';
import { CliError } from '../cli-error.js';
import { isReady } from './api.js';
import { clusterCommand, readRunRecord, userKubeconfigPath } from './layout.js';

export interface DashboardOptions {
  name: string;
  stateDir: string;
  /** default: the kubeconfig `up` merged the context into */
  kubeconfig: string | undefined;
  port: number;
  /** print only the URL (for scripts) */
  urlOnly: boolean;
  /** open it with xdg-open */
  open: boolean;
  out?: NodeJS.WritableStream;
}

function credentials(opts: DashboardOptions): {
  file: string;
  context: string;
  creds: KubeconfigCredentials;
} {
  const file = opts.kubeconfig ?? readRunRecord(opts.stateDir)?.kubeconfig ?? userKubeconfigPath(undefined);
  const context = contextName(opts.name);
  try {
    return { file, context, creds: readKubeconfig(file, context) };
  } catch (err) {
    throw new CliError(
      `kubemu dashboard: no credentials for cluster "${opts.name}": ${(err as Error).message}. ` +
        `Is it up? Start it with: ${clusterCommand('up', opts.name, opts.stateDir)}`,
      1,
      { cause: err },
    );
  }
}

export async function dashboard(opts: DashboardOptions): Promise<void> {
  const out = opts.out ?? process.stdout;
  const { file, context, creds } = credentials(opts);
  if (!creds.insecureSkipTlsVerify && !(await isReady({ url: creds.server, ca: creds.caPem ?? '' })))
    throw new CliError(
      `kubemu dashboard: the API server of cluster "${opts.name}" (${creds.server}, context ${context} in ${file}) ` +
        `is not ready. Check it with: ${clusterCommand('status', opts.name, opts.stateDir)}`,
    );
  let proxy;
  try {
    proxy = await startLocalProxy({ ...creds, port: opts.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      `kubemu dashboard: cannot listen on 127.0.0.1:${opts.port} (${code ?? String(err)}); pick another --port`,
      1,
      { cause: err },
    );
  }
  if (opts.urlOnly) out.write(`${proxy.url}\n`);
  else
    out.write(
      `Dashboard of cluster "${opts.name}": ${proxy.url}\n` +
        `(a local proxy with the credentials of context ${context} in ${file}; Ctrl-C stops it)\n`,
    );
  if (opts.open) openBrowser(proxy.url, out);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await proxy.close();
}

function openBrowser(url: string, out: NodeJS.WritableStream): void {
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', (err: NodeJS.ErrnoException) =>
    out.write(`could not open a browser (xdg-open: ${err.code ?? err.message}); open ${url} yourself\n`),
  );
  child.unref();
}
