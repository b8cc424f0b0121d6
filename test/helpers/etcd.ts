// A local etcd member for tests: Debian's etcd-server installed when missing (a failure, never a skip), started
// on free 127.0.0.1 ports with a data dir of its own, stopped by its PID and its dir removed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdMember, type EtcdMember } from '../../src/util/etcd-member.js';
import { ensureCommands } from './tools.js';

export interface TestEtcd extends EtcdMember {
  dataDir: string;
  /** stop the member (by PID) and remove its data dir */
  cleanup(): Promise<void>;
}

export async function startTestEtcd(extraArgs: string[] = []): Promise<TestEtcd> {
  ensureCommands([
    ['etcd', 'etcd-server'],
    ['etcdctl', 'etcd-client'],
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'kubemu-etcd-'));
  const dataDir = join(dir, 'data');
  try {
    const member = await startEtcdMember({ dataDir, extraArgs });
    return {
      ...member,
      dataDir,
      async cleanup() {
        await member.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
