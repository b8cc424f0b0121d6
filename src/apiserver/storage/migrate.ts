// A one-shot copy of a stopped cluster's SQLite store (state.db) into etcd, as k3s moves a SQLite server onto
// etcd (`--cluster-init`): every key with its stored value byte for byte (values encrypted at rest stay encrypted,
// no key needed), written only where etcd has no such key, then read back and compared. resourceVersions become
// etcd revisions: clients relist, as after any restore.
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import { EtcdLeaseManager } from './etcd-lease-manager.js';

export interface MigrateOptions {
  /** the SQLite database (the state dir's state.db) of a stopped apiserver */
  dbPath: string;
  /** etcd client URLs */
  endpoints: string[];
  /** etcd keys are this prefix + the storage key (default '', as the apiserver's --storage etcd) */
  keyPrefix?: string;
}

export interface MigrateResult {
  /** keys copied (and read back equal) */
  copied: number;
  /** etcd's revision after the copy */
  revision: number;
}

/** etcd refuses a transaction of more than 128 operations (--max-txn-ops) or over its request size */
const BATCH_OPS = 100;
const BATCH_BYTES = 1024 * 1024;

const MIN_COPIED_TTL_SECONDS = 60;

/** key → expiry (ms) of the objects written with a TTL; none in a database from before the ttl table */
function ttlOf(db: Database.Database): Map<string, number> {
  try {
    const rows = db.prepare('SELECT key, expires FROM ttl').all() as { key: string; expires: number }[];
    return new Map(rows.map((r) => [r.key, r.expires]));
  } catch {
    return new Map();
  }
}

export async function migrateSqliteToEtcd(opts: MigrateOptions): Promise<MigrateResult> {
  const prefix = opts.keyPrefix ?? '';
  let db: Database.Database;
  try {
    db = new Database(opts.dbPath, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new Error(`cannot read ${opts.dbPath}: ${(err as Error).message}`, { cause: err });
  }
  const client = new Etcd3({ hosts: opts.endpoints, dialTimeout: 5000 });
  try {
    const rows = db.prepare('SELECT key, value FROM kv ORDER BY key').all() as {
      key: string;
      value: string | Buffer;
    }[];
    const existing = await client
      .getAll()
      .prefix(`${prefix}/`)
      .count()
      .catch((err: unknown) => {
        throw new Error(`etcd at ${opts.endpoints.join(',')}: ${(err as Error).message}`, { cause: err });
      });
    if (existing > 0)
      throw new Error(
        `etcd at ${opts.endpoints.join(',')} already holds ${existing} keys under "${prefix}/": the copy only goes into an etcd without a cluster`,
      );
    const value = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);
    // objects written with a TTL (Events) keep what is left of it, on leases as the apiserver grants them; at
    // least a minute, so that the copy is read back whole below
    const expiries = ttlOf(db);
    const leases = new EtcdLeaseManager({
      grant: async (ttl) => (await client.leaseClient.leaseGrant({ TTL: ttl, ID: 0 })).ID,
    });
    // a PutBuilder is thenable (awaiting one runs the put): the leases are found first, the builders made after
    const leaseOf = async (row: (typeof rows)[number]): Promise<string | undefined> => {
      const expires = expiries.get(row.key);
      if (expires === undefined) return undefined;
      return leases.leaseFor(Math.max(MIN_COPIED_TTL_SECONDS, Math.ceil((expires - Date.now()) / 1000)));
    };
    for (let i = 0; i < rows.length;) {
      const batch: typeof rows = [];
      let bytes = 0;
      while (i < rows.length && batch.length < BATCH_OPS && (batch.length === 0 || bytes < BATCH_BYTES)) {
        bytes += value(rows[i].value).length;
        batch.push(rows[i++]);
      }
      // every key only if etcd does not have it: a concurrent writer makes the copy fail, never overwritten
      let txn = client.if(prefix + batch[0].key, 'Create', '==', 0);
      for (const row of batch.slice(1)) txn = txn.and(prefix + row.key, 'Create', '==', 0);
      const leaseIds = await Promise.all(batch.map(leaseOf));
      const puts = batch.map((row, n) => {
        const p = client.put(prefix + row.key).value(value(row.value));
        const lease = leaseIds[n];
        return lease === undefined ? p : p.lease(lease);
      });
      const res = await txn.then(...puts).commit();
      if (!res.succeeded)
        throw new Error(
          `etcd already has one of ${batch[0].key} .. ${batch[batch.length - 1].key}: copy stopped`,
        );
    }
    // read back: the same keys with the same bytes
    const back = await client.getAll().prefix(`${prefix}/`).sort('Key', 'Ascend').exec();
    const byKey = new Map(back.kvs.map((kv) => [kv.key.toString().slice(prefix.length), kv.value]));
    for (const row of rows) {
      const got = byKey.get(row.key);
      if (!got || !got.equals(value(row.value)))
        throw new Error(`read back from etcd: ${row.key} ${got ? 'differs' : 'is missing'}`);
    }
    if (byKey.size !== rows.length)
      throw new Error(`read back from etcd: ${byKey.size} keys, ${rows.length} copied`);
    return { copied: rows.length, revision: Number(back.header.revision) };
  } finally {
    client.close();
    db.close();
  }
}
