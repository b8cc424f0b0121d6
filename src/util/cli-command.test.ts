import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliCommand, shellQuote } from './cli-command.js';

describe('cliCommand', () => {
  // a clone: <root>/package.json, <root>/dist/cli/main.js
  const base = mkdtempSync(join(tmpdir(), 'kubemu-cli-command-'));
  const root = join(base, 'kubemu clone');
  const main = join(root, 'dist/cli/main.js');
  mkdirSync(join(root, 'dist/cli'), { recursive: true });
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'package.json'), '{"name":"kubemu"}');
  writeFileSync(main, '');
  const linked = join(base, 'bin');
  mkdirSync(linked);
  symlinkSync(main, join(linked, 'kubemu'));
  const elsewhere = join(base, 'home');
  mkdirSync(elsewhere);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('is plain `kubemu` when PATH has this install (a link to it)', () => {
    expect(cliCommand({ path: `/usr/bin:${linked}`, cwd: elsewhere, main })).toBe('kubemu');
  });

  it('is `npx kubemu` in the clone and its subdirectories when PATH has none', () => {
    expect(cliCommand({ path: '/usr/bin', cwd: root, main })).toBe('npx kubemu');
    expect(cliCommand({ path: '/usr/bin', cwd: join(root, 'src'), main })).toBe('npx kubemu');
  });

  it('ignores the node_modules/.bin npm adds to PATH while it runs npx or a script', () => {
    const npmBin = join(root, 'node_modules/.bin');
    mkdirSync(npmBin, { recursive: true });
    symlinkSync(main, join(npmBin, 'kubemu'));
    expect(cliCommand({ path: `${npmBin}:/usr/bin`, cwd: root, main })).toBe('npx kubemu');
  });

  it('is `node <main.js>` (quoted) outside the clone, where npx would fetch another package', () => {
    expect(cliCommand({ path: '/usr/bin', cwd: elsewhere, main })).toBe(`node '${main}'`);
  });

  it('does not take another program called kubemu on PATH for this one', () => {
    const other = join(base, 'other-bin');
    mkdirSync(other);
    writeFileSync(join(other, 'kubemu'), '#!/bin/sh\n');
    expect(cliCommand({ path: other, cwd: elsewhere, main })).toBe(`node '${main}'`);
  });
});

describe('shellQuote', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    expect(shellQuote('/tmp/kubemu-e2e-1/state')).toBe('/tmp/kubemu-e2e-1/state');
    expect(shellQuote('/tmp/my state')).toBe(`'/tmp/my state'`);
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
  });
});
