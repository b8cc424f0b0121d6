import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectSupervisor } from './supervisor.js';

const dir = mkdtempSync(join(tmpdir(), 'kubemu-supervisor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DirectSupervisor (kubemu up --foreground)', () => {
  it('restarts a component that exits, backing off, says so, and stops restarting at stopAll', async () => {
    const lines: string[] = [];
    const restarted: number[] = [];
    const supervisor = new DirectSupervisor({
      onLine: (name, line) => lines.push(`${name} ${line}`),
      onRestart: (_name, pid) => restarted.push(pid),
      restart: { initialDelayMs: 10, maxDelayMs: 40, resetAfterMs: 60_000 },
    });
    const logFile = join(dir, 'crasher.log');
    await supervisor.start({
      name: 'crasher',
      args: ['-e', 'console.error("giving up"); process.exit(3)'],
      env: {},
      logFile,
      cwd: dir,
    });
    for (let i = 0; restarted.length < 4; i++) {
      if (i > 1_000) throw new Error(`restarted ${restarted.length} times only: ${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await supervisor.stopAll();
    const [p] = await supervisor.list();
    expect(p.name).toBe('crasher');
    expect(p.restarts).toBeGreaterThanOrEqual(4);
    const notes = lines
      .filter((l) => l.includes('"component":"supervisor"'))
      .map((l) => (JSON.parse(l.slice('crasher '.length)) as { msg: string }).msg);
    const exits = notes.filter((m) => m.includes('exited with status 3'));
    // 10 ms, doubling, capped at 40 ms
    expect(exits.slice(0, 4).map((m) => /restarting in ([\d.]+)s/.exec(m)?.[1])).toEqual([
      '0.01',
      '0.02',
      '0.04',
      '0.04',
    ]);
    expect(notes).toContain(`crasher restarted (pid ${restarted[0]}, restart 1)`);
    // the component's own output and the supervisor's lines are both in its log file
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('giving up');
    expect(log).toContain('exited with status 3; restarting in');
    // nothing is restarted after stopAll
    const count = restarted.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(restarted.length).toBe(count);
  });
});
