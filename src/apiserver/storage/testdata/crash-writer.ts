// Crash-test child, run by sqlite-storage.test.ts through compileForNode: creates keys from 32 concurrent
// writers on the database at argv[2] until killed, printing "ack <key> <rv>" once each create resolved.
import { SqliteStorage } from '../sqlite-storage.js';

const [dbPath = '', prefix = '/cm/'] = process.argv.slice(2);
const storage = SqliteStorage.open({ path: dbPath });
// Never outlive the test: stop when the parent goes away, and after a bounded burst.
process.stdin.on('close', () => process.exit(0)).resume();
let next = 0;
async function writer(): Promise<void> {
  while (next < 100_000) {
    const name = `${prefix}${String(next++).padStart(8, '0')}`;
    const stored = await storage.create(name, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name },
      data: { pad: 'x'.repeat(1000) },
    });
    process.stdout.write(`ack ${stored.key} ${stored.rv}\n`);
  }
}
await Promise.all(Array.from({ length: 32 }, writer));
await storage.close();
