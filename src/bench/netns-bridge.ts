// Reaching an apiserver on the host's 127.0.0.1 from inside a network namespace made with `ip netns add`
// (namespaces share no loopback): the netns publisher's importFromHost, listening on the namespace's own 127.0.0.1
// at the same port, so the kubeconfig's https://127.0.0.1:PORT works unchanged in there.
import { FORWARDER_SCRIPT, Publisher } from '../netns/publisher.js';

export type NetnsBridge = Pick<Publisher, 'close'>;

/** `netns` must exist with `lo` up; `forwarderScript` is dist's cmd/netns-forwarder.js (callers running from src/ pass it) */
export async function bridgeIntoNetns(
  netns: string,
  port: number,
  forwarderScript = FORWARDER_SCRIPT,
): Promise<NetnsBridge> {
  const publisher = await Publisher.start({ sandboxPrefix: ['ip', 'netns', 'exec', netns], forwarderScript });
  const loopback = { host: '127.0.0.1', port };
  try {
    await publisher.importFromHost(loopback, loopback);
  } catch (err) {
    await publisher.close();
    throw err;
  }
  return publisher;
}
