/** Opening the relay's SQLite database: one file, WAL, fsync on every commit (synchronous=FULL). */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'

export type SqliteDatabase = Database.Database

export const DATABASE_FILE = 'apisync.sqlite'

/** Open (creating if needed) `{dataDir}/apisync.sqlite`, or an in-memory database for ':memory:'. */
export function openDatabase(dataDirOrMemory: string): SqliteDatabase {
  if (dataDirOrMemory === ':memory:') return configure(new Database(':memory:'))
  mkdirSync(dataDirOrMemory, { recursive: true })
  return configure(new Database(join(dataDirOrMemory, DATABASE_FILE)))
}

function configure(db: SqliteDatabase): SqliteDatabase {
  // Two connections share the file (the storage worker's and the main thread's, see relay.ts): wait for the
  // other's lock rather than fail, starting with the switch to WAL.
  db.pragma('busy_timeout = 5000')
  db.pragma('journal_mode = WAL')
  // FULL: a commit is on disk when it returns, which is what an ack promises. Group commit keeps it fast.
  db.pragma('synchronous = FULL')
  return db
}

/**
 * A write transaction that takes the write lock at BEGIN (BEGIN IMMEDIATE). Two connections share the file: a
 * deferred transaction that reads and then writes fails at once with SQLITE_BUSY when the other connection
 * committed in between (the busy timeout does not apply to that upgrade); BEGIN IMMEDIATE waits for the lock.
 */
export function writeTransaction<A extends unknown[], R>(db: SqliteDatabase, fn: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(fn)
  return (...args: A) => tx.immediate(...args)
}
