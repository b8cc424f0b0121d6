// `kubemu up`'s isolation probe for its kubelets (src/kubelet/runtime/isolation-probe.ts): run once, without blocking,
// while pm2's daemon starts; the answer goes to a file in the state dir that each kubelet it starts reads.
import { rmSync } from 'node:fs';
import { probeIsolation, type ProbeFile, type ProbeResult } from '../../kubelet/runtime/isolation-probe.js';
import { writeFileAtomic } from '../../util/atomic-file.js';

/**
 * Probes and writes the answer to `file` for the kubelets. Undefined when it could not be written: then `up` names
 * no file and each kubelet probes itself (an earlier run's file is removed, so nothing reads it).
 */
export async function writeProbeFile(file: string): Promise<ProbeResult | undefined> {
  try {
    const result = await probeIsolation();
    const record: ProbeFile = { ...result, uid: process.getuid?.() };
    writeFileAtomic(file, JSON.stringify(record), 0o600);
    return result;
  } catch {
    try {
      rmSync(file, { force: true });
    } catch {
      // not there, or not a file: nothing to remove
    }
    return undefined;
  }
}
