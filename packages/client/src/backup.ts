/**
 * Backup files of unacked changes: per doc, a Yjs update holding what the relay had not acked (everything
 * past the last acked state vector, or the whole doc if none was acked). Applying a doc's update to any
 * replica of that doc restores the changes; Yjs ignores what the replica already has.
 *
 * Layout (lib0 encoding): `varString "apisync-backup"`, `varUint 1`, `varString accountId`,
 * `varUint createdAt`, `varUint docCount`, then per doc `varString docName`, `varUint8Array update`.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { SyncClientError } from './errors.js'

const MAGIC = 'apisync-backup'
const VERSION = 1

export interface Backup {
  readonly accountId: string
  /** Epoch ms. */
  readonly createdAt: number
  readonly docs: readonly { readonly name: string; readonly update: Uint8Array }[]
}

export const encodeBackup = (backup: Backup): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, MAGIC)
  encoding.writeVarUint(e, VERSION)
  encoding.writeVarString(e, backup.accountId)
  encoding.writeVarUint(e, backup.createdAt)
  encoding.writeVarUint(e, backup.docs.length)
  for (const doc of backup.docs) {
    encoding.writeVarString(e, doc.name)
    encoding.writeVarUint8Array(e, doc.update)
  }
  return encoding.toUint8Array(e)
}

export const decodeBackup = (bytes: Uint8Array): Backup => {
  try {
    const d = decoding.createDecoder(bytes)
    if (decoding.readVarString(d) !== MAGIC) throw new Error('not an apisync backup')
    const version = decoding.readVarUint(d)
    if (version !== VERSION) throw new Error(`backup version ${version} is not supported`)
    const accountId = decoding.readVarString(d)
    const createdAt = decoding.readVarUint(d)
    const count = decoding.readVarUint(d)
    const docs: { name: string; update: Uint8Array }[] = []
    for (let i = 0; i < count; i++) docs.push({ name: decoding.readVarString(d), update: decoding.readVarUint8Array(d) })
    if (decoding.hasContent(d)) throw new Error('trailing bytes')
    return { accountId, createdAt, docs }
  } catch (cause) {
    throw new SyncClientError('BAD_BACKUP', `not a readable apisync backup: ${(cause as Error).message}`, { cause })
  }
}
