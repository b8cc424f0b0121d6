import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFileLimit } from './fd-limit.js';

const limits = (soft: string): string => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-limits-')), 'limits');
  fs.writeFileSync(
    file,
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max processes             127393               127393               processes \n' +
      `Max open files            ${soft}                 1048576              files     \n`,
  );
  return file;
};

describe('openFileLimit', () => {
  it('reads the soft limit from /proc/self/limits', () => {
    expect(openFileLimit(limits('1024'))).toBe(1024);
    expect(openFileLimit(limits('unlimited'))).toBeUndefined();
    expect(openFileLimit('/nonexistent/limits')).toBeUndefined();
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});
