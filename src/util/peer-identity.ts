// The identity in a verified TLS client certificate, as upstream's x509 authenticator reads it: CN is the user
// name, each O a group. Used by the apiserver and the kubelet alike.
import type { TLSSocket } from 'node:tls';

export interface PeerIdentity {
  username: string;
  groups: string[];
}

const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** The caller of a TLS connection whose client certificate verified against the client CA, else undefined. */
export function peerIdentity(socket: TLSSocket): PeerIdentity | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const subject = cert?.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  const username = asList(subject?.['CN'])[0];
  if (!username) return undefined;
  return { username, groups: asList(subject?.['O']) };
}
