/**
 * What the relay's options name, opened: the DocStore, the Registry beside it, and the bus. Two shapes:
 *
 * - one relay (the default and the demo's): SQLite in the data dir (a WorkerDocStore, with the registry on a
 *   second connection to the same file), no bus;
 * - several relays: Postgres (`store: 'postgres://…'`: one pool for docs and registry, schema migrated on
 *   start) and Redis (`bus: 'redis://…'`).
 *
 * The relay owns (and closes) what it opened here from a path or a URL, never a store, registry or bus it was
 * handed.
 */
import { randomBytes } from 'node:crypto'
import { noBus, type Bus } from './bus.js'
import type { HistoryOption } from './history.js'
import { ConfigError } from './errors.js'
import type { Logger } from './logger.js'
import { describeError } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import { createPool } from './postgres.js'
import { PostgresRegistry } from './postgres-registry.js'
import { PostgresDocStore } from './postgres-store.js'
import { RedisBus } from './redis-bus.js'
import type { Registry } from './registry.js'
import { openDatabase } from './sqlite.js'
import { SqliteRegistry } from './sqlite-registry.js'
import { SqliteDocStore } from './sqlite-store.js'
import type { DocStore } from './store.js'
import { WorkerDocStore } from './worker-store.js'

export interface BackendOptions {
  store: DocStore | string | undefined
  registry: Registry | undefined
  bus: Bus | string | undefined
  busPrefix: string | undefined
  dataDir: string
  relayId: string
  logger: Logger
  metrics: RelayMetrics
  /** How long a relay's presence counts after its last heartbeat. */
  aliveForMs: number
  /** History for the stores opened here (a store given by the caller is configured by the caller). */
  history: HistoryOption | undefined
  now: () => number
}

export interface Backend {
  /** 'sqlite', 'postgres' or 'custom' (a DocStore given by the caller). */
  readonly kind: string
  readonly store: DocStore
  readonly registry: Registry
  readonly bus: Bus
  /** Storage open (and migrated). */
  readonly ready: Promise<void>
  close(): Promise<void>
}

export const isPostgresUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s)
export const isRedisUrl = (s: string): boolean => /^rediss?:\/\//i.test(s)

export function openBackend(o: BackendOptions): Backend {
  const owned: (() => Promise<void>)[] = []
  let kind: string
  let store: DocStore
  let registry: Registry
  let ready: Promise<void> = Promise.resolve()

  if (typeof o.store === 'string') {
    if (!isPostgresUrl(o.store)) throw new ConfigError('store must be a postgres:// URL (SQLite is the default: give a data dir)')
    const pool = createPool({ url: o.store }, (err) => o.logger.warn('postgres.idle-error', { error: describeError(err) }))
    const pg = new PostgresDocStore({ pool, history: o.history, now: o.now })
    const pgRegistry = new PostgresRegistry({ pool, relayId: o.relayId, aliveForMs: o.aliveForMs, logger: o.logger })
    kind = 'postgres'
    store = pg
    registry = o.registry ?? pgRegistry
    ready = pg.opened().then(() => pgRegistry.start())
    owned.push(() => pgRegistry.close(), () => pool.end())
  } else if (o.store === undefined) {
    // The registry's connection is opened first, so that a data dir that cannot be used fails here.
    const db = openDatabase(o.dataDir)
    if (o.dataDir !== ':memory:') db.pragma('wal_autocheckpoint = 0')
    const sqliteRegistry = new SqliteRegistry(db, true)
    const worker = new WorkerDocStore({ dataDir: o.dataDir, history: o.history, now: o.now })
    kind = 'sqlite'
    store = worker
    registry = o.registry ?? sqliteRegistry
    ready = worker.opened()
    owned.push(() => sqliteRegistry.close(), () => worker.close())
  } else {
    store = o.store
    kind = store instanceof PostgresDocStore ? 'postgres' : store instanceof SqliteDocStore || store instanceof WorkerDocStore ? 'sqlite' : 'custom'
    if (o.registry) registry = o.registry
    else if (store instanceof PostgresDocStore) {
      const pgRegistry = new PostgresRegistry({ pool: store.pool, relayId: o.relayId, aliveForMs: o.aliveForMs, logger: o.logger })
      registry = pgRegistry
      owned.push(() => pgRegistry.close())
      ready = store.opened().then(() => pgRegistry.start())
    } else if (store instanceof SqliteDocStore) {
      registry = new SqliteRegistry(store.database, false)
      const r = registry
      owned.push(() => r.close())
    } else {
      // Registry connections read while the worker commits (WAL) and leave checkpoints to it.
      const file = store instanceof WorkerDocStore ? store.dataDir : ':memory:'
      const db = openDatabase(file)
      if (file !== ':memory:') db.pragma('wal_autocheckpoint = 0')
      registry = new SqliteRegistry(db, true)
      const r = registry
      owned.push(() => r.close())
      if (store instanceof WorkerDocStore) ready = store.opened()
    }
  }

  let bus: Bus = noBus
  if (typeof o.bus === 'string') {
    if (!isRedisUrl(o.bus)) throw new ConfigError('bus must be a redis:// or rediss:// URL')
    const redis = new RedisBus({
      url: o.bus,
      prefix: o.busPrefix,
      relayId: o.relayId,
      logger: o.logger,
      onPublishError: () => o.metrics.busPublishFailures.inc(),
    })
    bus = redis
    owned.unshift(() => redis.close())
  } else if (o.bus) bus = o.bus

  let closing: Promise<void> | null = null
  return {
    kind,
    store,
    registry,
    bus,
    ready,
    close: () =>
      (closing ??= (async () => {
        for (const close of owned) {
          try {
            await close()
          } catch (err) {
            o.logger.warn('relay.close-failed', { error: describeError(err) })
          }
        }
      })()),
  }
}

/** A random relay id that says what it is in logs. */
export const newRelayId = (): string => `relay-${randomBytes(6).toString('hex')}`
