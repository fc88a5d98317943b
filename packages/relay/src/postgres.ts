/**
 * The relay's Postgres database (node-postgres `pg` 8): the connection pool both the PostgresDocStore and the
 * PostgresRegistry use, and the schema, migrated on start. Several relays may start at once against a fresh
 * database: the migration runs in one transaction under an advisory lock, so one of them creates the tables
 * and the others find them done. Every step is idempotent.
 */
import pg from 'pg'
import { StorageError } from './errors.js'

export type PgPool = pg.Pool
export type PgClient = pg.PoolClient

/** The advisory lock id of schema migrations ('apisyn' in ASCII, within a double's exact range). */
const MIGRATION_LOCK = 0x61706973796e

/** Each step moves the schema one version up; never edit a step that has shipped, add one. */
const MIGRATIONS: string[] = [
  // 1: docs (head and snapshot), the attributed update log, sessions, presence, tombstones, key backups, dev auth.
  `
  CREATE TABLE apisync_docs (
    doc text PRIMARY KEY,
    last_seq bigint NOT NULL DEFAULT 0,      -- the doc's last sequence number (assigned here, in the commit)
    snapshot bytea,                          -- covers every update with seq <= snapshot_seq
    snapshot_seq bigint NOT NULL DEFAULT 0,
    compacted_at timestamptz
  );
  CREATE TABLE apisync_updates (
    doc text NOT NULL,
    seq bigint NOT NULL,                     -- the doc's own sequence: 1, 2, 3, …
    data bytea NOT NULL,                     -- a Yjs v1 update
    account text,                            -- attribution (null: the relay's own)
    session text,
    device text,
    committed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (doc, seq)
  );
  CREATE TABLE apisync_sessions (
    sid text PRIMARY KEY,
    account text NOT NULL,
    device text,
    user_agent text,
    first_seen bigint NOT NULL,
    last_seen bigint NOT NULL,
    revoked_at bigint,
    revoke_reason text
  );
  CREATE INDEX apisync_sessions_by_account ON apisync_sessions (account);
  CREATE TABLE apisync_relays (
    id text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    alive_until timestamptz NOT NULL
  );
  CREATE TABLE apisync_presence (
    sid text NOT NULL,
    relay text NOT NULL,
    account text NOT NULL,
    connections integer NOT NULL,
    last_active bigint NOT NULL,
    PRIMARY KEY (sid, relay)
  );
  CREATE INDEX apisync_presence_by_account ON apisync_presence (account);
  CREATE TABLE apisync_deleted_accounts (account text PRIMARY KEY, deleted_at bigint NOT NULL);
  CREATE TABLE apisync_deleted_workspaces (workspace text PRIMARY KEY, deleted_at bigint NOT NULL);
  CREATE TABLE apisync_key_backups (account text PRIMARY KEY, backup text NOT NULL, updated_at bigint NOT NULL);
  CREATE TABLE apisync_dev_accounts (name text PRIMARY KEY, sub text NOT NULL, workspace text NOT NULL);
  CREATE TABLE apisync_dev_settings (key text PRIMARY KEY, value text NOT NULL);
  `,
  // 2: history (issue #14). The log rows stay after compaction; thinned rows (a run merged into one, with all
  // its authors); checkpoints. A doc compacted before has no rows up to its snapshot: its history starts there.
  `
  ALTER TABLE apisync_updates ADD COLUMN first_seq bigint;            -- a thinned row covers first_seq … seq
  ALTER TABLE apisync_updates ADD COLUMN changes integer NOT NULL DEFAULT 1;
  ALTER TABLE apisync_updates ADD COLUMN authors text;                -- a thinned row: JSON [{ account, session, device }]
  CREATE TABLE apisync_checkpoints (
    doc text NOT NULL,
    seq bigint NOT NULL,
    data bytea NOT NULL,                     -- every update up to seq, merged, not garbage collected
    PRIMARY KEY (doc, seq)
  );
  INSERT INTO apisync_checkpoints (doc, seq, data)
    SELECT doc, snapshot_seq, snapshot FROM apisync_docs d
    WHERE snapshot IS NOT NULL AND NOT EXISTS (SELECT 1 FROM apisync_updates u WHERE u.doc = d.doc AND u.seq <= d.snapshot_seq);
  `,
]

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length

export interface PostgresOptions {
  /** postgres://user:password@host:port/database */
  url: string
  /** Connections in the pool. Default 10. */
  poolSize?: number
  /** Give up on getting a connection after this long (the relay then answers 1013/503). Default 5 s. */
  connectionTimeoutMs?: number
}

export function createPool(options: PostgresOptions, onIdleError: (err: Error) => void): PgPool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    // A query that hangs (a half-open connection after a network failure) must not hold the commit queue
    // forever: give up, fail the commit (no ack; clients resend), and let the pool make a new connection.
    query_timeout: 30_000,
    keepAlive: true,
    application_name: 'apisync-relay',
  })
  // An idle connection that the server closed (restart, failover) must not crash the process: the pool
  // replaces it on the next checkout.
  pool.on('error', onIdleError)
  return pool
}

/** Bring the schema up to date; safe with several relays starting at once. */
export async function migrate(pool: PgPool): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await client.query('CREATE TABLE IF NOT EXISTS apisync_schema (version integer NOT NULL)')
    const { rows } = await client.query<{ version: number }>('SELECT version FROM apisync_schema')
    const current = rows[0]?.version ?? 0
    if (current > MIGRATIONS.length) throw new StorageError(`the database has apisync schema ${current}, newer than this relay (${MIGRATIONS.length})`)
    for (let v = current; v < MIGRATIONS.length; v++) await client.query(MIGRATIONS[v])
    if (rows.length === 0) await client.query('INSERT INTO apisync_schema (version) VALUES ($1)', [MIGRATIONS.length])
    else if (current < MIGRATIONS.length) await client.query('UPDATE apisync_schema SET version = $1', [MIGRATIONS.length])
  })
}

/** Run `work` in a transaction on one connection: COMMIT if it resolves, ROLLBACK if it throws. */
export async function withTransaction<T>(pool: PgPool, work: (client: PgClient) => Promise<T>): Promise<T> {
  const client = await connect(pool)
  let broken = false
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    try {
      await client.query('ROLLBACK')
    } catch {
      broken = true
    }
    throw storageError(err)
  } finally {
    client.release(broken)
  }
}

/** A pooled connection, or a StorageError if Postgres cannot be reached. */
export async function connect(pool: PgPool): Promise<PgClient> {
  try {
    return await pool.connect()
  } catch (err) {
    throw storageError(err)
  }
}

/** A query on the pool; failures become StorageErrors (with Postgres' SQLSTATE as code when there is one). */
export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(pool: PgPool, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(text, values)
  } catch (err) {
    throw storageError(err)
  }
}

/** SQLSTATEs after which the same transaction may simply be run again. */
export const isRetryable = (err: unknown): boolean => err instanceof StorageError && (err.code === '40P01' || err.code === '40001')

export function storageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err
  const e = err as { message?: string; code?: unknown }
  const code = typeof e?.code === 'string' ? e.code : 'STORAGE'
  return new StorageError(`postgres: ${e?.message ?? String(err)}`, code)
}
