// upstream's Summary API (/stats/summary) from the runtime's per-container CPU and memory samples.
import { rfc3339 } from '../util/objects.js';
import type { PodWorker } from './pod-worker.js';

interface CpuStats {
  time: string;
  usageNanoCores: number;
  usageCoreNanoSeconds: number;
}
interface MemoryStats {
  time: string;
  workingSetBytes: number;
  rssBytes: number;
  usageBytes: number;
  availableBytes?: number;
}

const sumCpu = (time: string, list: CpuStats[]): CpuStats => ({
  time,
  usageNanoCores: list.reduce((a, c) => a + c.usageNanoCores, 0),
  usageCoreNanoSeconds: list.reduce((a, c) => a + c.usageCoreNanoSeconds, 0),
});
const sumMemory = (time: string, list: MemoryStats[]): MemoryStats => ({
  time,
  workingSetBytes: list.reduce((a, c) => a + c.workingSetBytes, 0),
  rssBytes: list.reduce((a, c) => a + c.rssBytes, 0),
  usageBytes: list.reduce((a, c) => a + c.usageBytes, 0),
});

/** Node and pods as metrics-server reads them: the node's usage is the sum of its containers (they are the VM's load). */
export function statsSummary(
  nodeName: string,
  startMs: number,
  workers: PodWorker[],
  memoryBytes: number,
): unknown {
  const now = rfc3339(Date.now());
  const pods = workers
    .filter((w) => w.podIP)
    .map((w) => {
      const containers = w.records().flatMap((r) => {
        const proc = r.process;
        const u = proc?.running ? proc.usage : undefined;
        if (!proc || !u) return [];
        const time = rfc3339(u.timestamp);
        return [
          {
            name: r.spec.name,
            startTime: rfc3339(proc.startedAt.getTime()),
            cpu: { time, usageNanoCores: Math.round(u.cpuCores * 1e9), usageCoreNanoSeconds: u.cpuNanos },
            memory: {
              time,
              workingSetBytes: u.workingSetBytes,
              rssBytes: u.rssBytes,
              usageBytes: u.rssBytes,
            },
          },
        ];
      });
      const m = w.pod.metadata!;
      return {
        podRef: { name: m.name, namespace: m.namespace, uid: m.uid },
        startTime: w.startTime ?? now,
        containers,
        cpu: sumCpu(
          now,
          containers.map((c) => c.cpu),
        ),
        memory: sumMemory(
          now,
          containers.map((c) => c.memory),
        ),
      };
    });
  const nodeMemory = sumMemory(
    now,
    pods.map((p) => p.memory),
  );
  return {
    node: {
      nodeName,
      startTime: rfc3339(startMs),
      cpu: sumCpu(
        now,
        pods.map((p) => p.cpu),
      ),
      memory: { ...nodeMemory, availableBytes: Math.max(0, memoryBytes - nodeMemory.workingSetBytes) },
      systemContainers: [],
    },
    pods,
  };
}
