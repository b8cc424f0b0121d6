// Container logs, on the kubelet's own LogWriter and readLogs: what a chatty container's stdout costs the kubelet
// (rotating at upstream's 10Mi × 5), and how fast `kubectl logs --tail=1` and a whole `kubectl logs` of a full
// 10 MiB file are answered. (The kubelet's RSS while a pod writes 60 MB is reported by test/e2e/container-logs.)
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogWriter } from '../kubelet/runtime/log-file.js';
import { DEFAULT_LOG_ROTATION } from '../kubelet/runtime/log-rotation.js';
import { readLogs } from '../kubelet/runtime/logs.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const MB = 1_000_000;
const WRITTEN = 100 * MB;
const LINE = `${'a line of container output '.repeat(4).slice(0, 99)}\n`;

async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.length;
  return bytes;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

registerSuite('container-logs', async (): Promise<BenchResult[]> => {
  const dir = mkdtempSync(join(tmpdir(), 'kubemu-bench-logs-'));
  try {
    const file = join(dir, 'default_chatty_uid_main_0.log');
    const writer = new LogWriter(file, undefined, { policy: DEFAULT_LOG_ROTATION });
    const chunk = LINE.repeat(Math.floor(65_536 / LINE.length));
    const start = process.hrtime.bigint();
    for (let written = 0; written < WRITTEN; written += chunk.length) writer.write('stdout', chunk);
    const writeMs = Number(process.hrtime.bigint() - start) / 1e6;
    writer.close();
    await writer.idle();
    const onDisk = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

    // the current file, full: what `kubectl logs` reads
    const full = new LogWriter(join(dir, 'full.log'));
    while (statSync(full.file).size < DEFAULT_LOG_ROTATION.maxSize - chunk.length * 2)
      full.write('stdout', chunk);
    full.close();
    const tailMs: number[] = [];
    const wholeMs: number[] = [];
    for (let i = 0; i < 9; i++) {
      let t = process.hrtime.bigint();
      await drain(readLogs(full.file, { tailLines: 1 }));
      tailMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      await drain(readLogs(full.file));
      wholeMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return [
      {
        name: 'log writer: 100 MB of stdout (100-byte lines), rotating at 10Mi × 5',
        value: WRITTEN / MB / (writeMs / 1000),
        unit: 'MB/s',
        target: { op: '>=', value: 50 },
        note: `on disk afterwards: ${(onDisk / MB).toFixed(1)} MB in ${readdirSync(dir).length - 1} files`,
      },
      {
        name: 'kubectl logs --tail=1 of a full 10 MiB log (kubelet side), median',
        value: median(tailMs),
        unit: 'ms',
        target: { op: '<=', value: 5 },
      },
      {
        name: 'kubectl logs of a full 10 MiB log (kubelet side), median',
        value: median(wholeMs),
        unit: 'ms',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
