// kubemu/writer: appends a timestamped line to $FILE every $INTERVAL_MS, to show a volume shared between containers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Without a private mount namespace the kubelet sets KUBEMU_ROOT and absolute paths live under it.
const inRoot = (p) =>
  process.env.KUBEMU_ROOT && path.isAbsolute(p) ? path.join(process.env.KUBEMU_ROOT, p) : p;
const file = inRoot(process.env.FILE ?? '/data/out.log');
const intervalMs = Number(process.env.INTERVAL_MS ?? 1000);
const pod = process.env.POD_NAME ?? process.env.HOSTNAME ?? os.hostname();

fs.mkdirSync(path.dirname(file), { recursive: true });
let n = 0;
const write = () => {
  const line = `${new Date().toISOString()} ${pod} line ${++n}\n`;
  fs.appendFileSync(file, line);
  process.stdout.write(line);
};
write();
const timer = setInterval(write, intervalMs);
process.on('SIGTERM', () => {
  clearInterval(timer);
  process.exit(0);
});
