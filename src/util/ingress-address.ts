// Where the ingress gateway listens by default: one address shared by the gateway and the CLI that prints it.
import { mayBindPort } from './privileged-ports.js';

export const DEFAULT_INGRESS_IP = '127.0.3.1';
/** :80/:443 when the process may bind them (root, or a lowered ip_unprivileged_port_start), else :8080/:8443 */
export const DEFAULT_HTTP = `${DEFAULT_INGRESS_IP}:${mayBindPort(80) ? 80 : 8080}`;
export const DEFAULT_HTTPS = `${DEFAULT_INGRESS_IP}:${mayBindPort(443) ? 443 : 8443}`;

/** URLs a user types: http://127.0.3.1, https://127.0.3.1 (ports shown only when not the scheme's default) */
export function ingressUrls(): { http: string; https: string } {
  const http = DEFAULT_HTTP.endsWith(':80') ? `http://${DEFAULT_INGRESS_IP}` : `http://${DEFAULT_HTTP}`;
  const https = DEFAULT_HTTPS.endsWith(':443') ? `https://${DEFAULT_INGRESS_IP}` : `https://${DEFAULT_HTTPS}`;
  return { http, https };
}
