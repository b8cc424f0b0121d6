// Where an exec, attach or port-forward goes: the pod's node and the kubelet path, with upstream's checks and
// messages (pkg/registry/core/pod/strategy.go ExecLocation/AttachLocation/PortForwardLocation → streamLocation).
import type { Pod } from 'kubernetes-types/core/v1.js';
import { errors } from '../../api/errors.js';
import { decodePodPortForwardPorts, decodePodStreamOptions } from '../../api/query-params.js';

export type StreamSubresource = 'exec' | 'attach' | 'portforward';

export const STREAM_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)\/?$/;

/** The container a stream is for: the named one, the only one, or upstream's "a container name must be specified". */
export function streamContainer(pod: Pod, requested: string | null): string {
  const name = pod.metadata?.name ?? '';
  const containers = pod.spec?.containers ?? [];
  if (!requested) {
    if (containers.length === 1) return containers[0].name;
    if (containers.length === 0)
      throw errors.badRequest(`a container name must be specified for pod ${name}`);
    let message = `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`;
    const init = pod.spec?.initContainers ?? [];
    if (init.length > 0) message += ` or one of the init containers: [${init.map((c) => c.name).join(' ')}]`;
    const ephemeral = pod.spec?.ephemeralContainers ?? [];
    if (ephemeral.length > 0)
      message += ` or one of the ephemeral containers: [${ephemeral.map((c) => c.name).join(' ')}]`;
    throw errors.badRequest(message);
  }
  const all = [
    ...containers,
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.ephemeralContainers ?? []),
  ].map((c) => c.name);
  if (!all.includes(requested))
    throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/**
 * The kubelet path and query for a stream: the query decoded as upstream's PodExecOptions / PodAttachOptions /
 * PodPortForwardOptions (so `stdin=True` is true and `ports=80,8080` two ports), then re-encoded as its streamParams
 * does: stdin → input=1, stdout → output=1, stderr → error=1, tty → tty=1, every command as `command`, the ports
 * joined by commas as `port`.
 */
export function kubeletStreamPath(sub: StreamSubresource, pod: Pod, q: URLSearchParams): string {
  const ns = encodeURIComponent(pod.metadata?.namespace ?? 'default');
  const name = encodeURIComponent(pod.metadata?.name ?? '');
  if (sub === 'portforward') {
    const ports = decodePodPortForwardPorts(q);
    if (!pod.spec?.nodeName)
      throw errors.badRequest(`pod ${pod.metadata?.name ?? ''} does not have a host assigned`);
    const params = new URLSearchParams();
    if (ports.length > 0) params.append('port', ports.join(','));
    const qs = params.toString();
    return `/portForward/${ns}/${name}${qs ? `?${qs}` : ''}`;
  }
  const opts = decodePodStreamOptions(q);
  const container = streamContainer(pod, opts.container ?? null);
  if (!pod.spec?.nodeName)
    throw errors.badRequest(`pod ${pod.metadata?.name ?? ''} does not have a host assigned`);
  const params = new URLSearchParams();
  if (!opts.stdin && !opts.stdout && !opts.stderr)
    throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (opts.stdin) params.append('input', '1');
  if (opts.stdout) params.append('output', '1');
  if (opts.stderr) params.append('error', '1');
  if (opts.tty) params.append('tty', '1');
  if (sub === 'exec') {
    if (opts.command.length === 0)
      throw errors.badRequest('you must specify at least one command for the container');
    for (const c of opts.command) params.append('command', c);
  }
  return `/${sub}/${ns}/${name}/${encodeURIComponent(container)}?${params.toString()}`;
}
