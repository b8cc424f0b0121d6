import { describe, expect, it } from 'vitest';
import { listeningInodes } from './port-holder.js';

// /proc/net/tcp as Linux writes it: 127.0.3.1:80 and 0.0.0.0:6443 listening, a connection to 127.0.3.1:80
const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0103007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1 0000000000000000 100 0 0 10 0
   1: 00000000:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4712 1 0000000000000000 100 0 0 10 0
   2: 0100007F:A3C2 0103007F:0050 01 00000000:00000000 00:00000000 00000000     0        0 4713 1 0000000000000000 20 4 30 10 -1
`;

describe('listeningInodes', () => {
  it('finds the socket listening on the address', () => {
    expect(listeningInodes('127.0.3.1', 80, TABLE)).toEqual(['4711']);
  });
  it('counts a wildcard listener on the port as holding every address', () => {
    expect(listeningInodes('127.0.0.1', 6443, TABLE)).toEqual(['4712']);
  });
  it('ignores connections and other ports', () => {
    expect(listeningInodes('127.0.0.1', 41922, TABLE)).toEqual([]);
    expect(listeningInodes('127.0.3.1', 443, TABLE)).toEqual([]);
  });
});
