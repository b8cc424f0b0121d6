// The static token file (upstream's --token-auth-file CSV: token,user,uid,"group1,group2") and who gets a token.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-file.js';

export const TOKEN_FILE_NAME = 'tokens.csv';

export const ADMIN_USER = 'kubemu-admin';
export const ADMIN_GROUPS: readonly string[] = ['system:masters'];
export const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';
export const SCHEDULER_USER = 'system:kube-scheduler';
export const NODES_GROUP = 'system:nodes';
/** the group RBAC never asks about: upstream's privileged-group authorizer allows it everything */
export const MASTERS_GROUP = 'system:masters';
/**
 * The controller-manager's own credential has upstream's identity and only its role (system:kube-controller-manager:
 * the shared informers' list and watch, creating its controllers' ServiceAccounts and their tokens); each controller
 * runs as its own ServiceAccount (--use-service-account-credentials, as kubeadm sets it). The scheduler has
 * upstream's identity and roles only.
 */
export const CONTROLLER_MANAGER_GROUPS: readonly string[] = [];
/**
 * A kubelet's credential: `system:node:<name>` in system:nodes, as upstream's; the Node authorizer and NodeRestriction
 * admission decide what it may do (its pods' objects, its own Node and Lease).
 */
export const NODE_GROUPS: readonly string[] = [NODES_GROUP];

/** upstream's node identity: `system:node:<name>` in group `system:nodes` */
export const nodeUser = (nodeName: string): string => `system:node:${nodeName}`;

export interface TokenEntry {
  token: string;
  user: string;
  uid: string;
  groups: string[];
}

export const tokenFilePath = (stateDir: string): string => join(stateDir, TOKEN_FILE_NAME);

/** 32 random bytes, base64url: no commas or quotes, so it never needs CSV quoting. */
export const newToken = (): string => randomBytes(32).toString('base64url');

/** Splits CSV text into records as Go's encoding/csv does: quoted fields, `""` escapes, blank lines skipped. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  const endRecord = (): void => {
    if (fieldStarted || record.length > 0) {
      record.push(field);
      records.push(record);
    }
    record = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  endRecord();
  return records;
}

/** Parses a token file's text with upstream's rules (at least 3 columns; empty tokens skipped; groups split on `,`). */
export function parseTokenFile(text: string, file = 'token file'): TokenEntry[] {
  const entries: TokenEntry[] = [];
  for (const record of parseCsv(text)) {
    if (record.length < 3) {
      throw new Error(
        `token file '${file}' must have at least 3 columns (token, user name, user uid), found ${record.length}`,
      );
    }
    const [token, user, uid, groups] = record as [string, string, string, string | undefined];
    if (token === '') continue;
    entries.push({
      token,
      user,
      uid,
      groups: groups === undefined || groups === '' ? [] : groups.split(','),
    });
  }
  return entries;
}

const csvField = (value: string): string =>
  /[",\r\n]/.test(value) || value === '' ? `"${value.replaceAll('"', '""')}"` : value;

export function formatTokenFile(entries: readonly TokenEntry[]): string {
  return entries
    .map((e) => {
      const fields = [csvField(e.token), csvField(e.user), csvField(e.uid)];
      if (e.groups.length > 0) fields.push(`"${e.groups.join(',').replaceAll('"', '""')}"`);
      return fields.join(',');
    })
    .map((line) => `${line}\n`)
    .join('');
}

export function readTokenFile(file: string): TokenEntry[] {
  return parseTokenFile(readFileSync(file, 'utf8'), file);
}

const LOCK_WAIT_MS = 5_000;
const LOCK_STALE_MS = 10_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Read-modify-write of the token file under a lock file, so two processes adding node tokens don't lose one. */
function updateTokenFile<T>(
  file: string,
  change: (entries: TokenEntry[]) => { entries?: TokenEntry[]; result: T },
): T {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        // a holder that crashed leaves its lock behind; take it over once it is clearly old
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
      } catch {
        // lock vanished between open and stat: retry at once
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lock}`, { cause: err });
      sleepSync(10);
    }
  }
  try {
    let entries: TokenEntry[] = [];
    try {
      entries = readTokenFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const { entries: next, result } = change(entries);
    if (next) writeFileAtomic(file, formatTokenFile(next), 0o600);
    return result;
  } finally {
    rmSync(lock, { force: true });
  }
}

const sameGroups = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((g, i) => g === b[i]);

/**
 * The token of `user` in the state dir's token file, added (with a new random token) when missing.
 * Groups are brought up to date if they differ. Returns the token.
 */
export function ensureComponentToken(stateDir: string, user: string, groups: readonly string[] = []): string {
  return updateTokenFile(tokenFilePath(stateDir), (entries) => {
    const existing = entries.find((e) => e.user === user);
    if (existing && sameGroups(existing.groups, groups)) return { result: existing.token };
    if (existing) {
      existing.groups = [...groups];
      return { entries, result: existing.token };
    }
    const entry: TokenEntry = { token: newToken(), user, uid: randomUUID(), groups: [...groups] };
    return { entries: [...entries, entry], result: entry.token };
  });
}

/**
 * Creates the token file on first start (admin, controller-manager, scheduler); later starts keep it.
 * Returns the file and the admin token, for the kubeconfig.
 */
export function ensureTokenFile(stateDir: string): { file: string; adminToken: string } {
  const adminToken = ensureComponentToken(stateDir, ADMIN_USER, ADMIN_GROUPS);
  ensureComponentToken(stateDir, CONTROLLER_MANAGER_USER, CONTROLLER_MANAGER_GROUPS);
  ensureComponentToken(stateDir, SCHEDULER_USER);
  return { file: tokenFilePath(stateDir), adminToken };
}

/** A node's kubelet (and kube-proxy) credential: `system:node:<name>` in NODE_GROUPS. */
export const ensureNodeToken = (stateDir: string, nodeName: string): string =>
  ensureComponentToken(stateDir, nodeUser(nodeName), NODE_GROUPS);
