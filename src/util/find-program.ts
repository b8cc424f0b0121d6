// A program's absolute path from $PATH, for launchers (pm2) that want one; a clear error when it is not installed.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findProgram(
  name: string,
  path = process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
): string {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  throw new Error(`${name} is not installed (not found in $PATH)`);
}
