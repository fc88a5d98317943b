/**
 * The workspace keyring, kept in the manifest doc: members (with their public keys) and the data key of each
 * generation wrapped once per member. Whoever holds a generation can add a member (wrapping it for them);
 * removing a member starts a new generation wrapped only for those who remain, so values written after the
 * removal are unreadable to the removed member.
 */
import type { WorkspaceModel, WorkspaceSnapshot } from '@apisync/model'
import type { JWK } from 'jose'
import { type AccountKeys, checkPublicJwk } from './account-keys.js'
import { type DataKey, generateDataKey, unwrapDataKey, wrapDataKey } from './data-keys.js'
import { CryptoError } from './errors.js'

export interface Me {
  readonly accountId: string
  readonly name?: string
  readonly keys: AccountKeys
}

export interface Keyring {
  /** Every generation this account can open, by kid. */
  readonly keys: ReadonlyMap<string, DataKey>
  /** The generation new values are sealed with (the newest), if this account holds it. */
  readonly current: DataKey | undefined
  /** The newest generation's kid, held or not. */
  readonly currentKid: string | undefined
}

/** The newest generation: highest createdAt, then highest kid (the same choice on every replica). */
export const newestKid = (ws: WorkspaceSnapshot): string | undefined => {
  let best: { kid: string; createdAt: number } | undefined
  for (const w of ws.keyWraps) {
    if (!best || w.createdAt > best.createdAt || (w.createdAt === best.createdAt && w.kid > best.kid)) best = w
  }
  return best?.kid
}

export const unlockKeyring = async (ws: WorkspaceModel, me: Me): Promise<Keyring> => {
  const snap = ws.snapshot()
  const keys = new Map<string, DataKey>()
  for (const w of snap.keyWraps) {
    if (w.accountId !== me.accountId || keys.has(w.kid)) continue
    const key = await unwrapDataKey(w.jwe, me.keys.privateJwk)
    if (key.kid !== w.kid) throw new CryptoError('TAMPERED', `key wrap ${w.id} names kid ${w.kid} but holds ${key.kid}`)
    keys.set(w.kid, key)
  }
  const currentKid = newestKid(snap)
  return { keys, current: currentKid === undefined ? undefined : keys.get(currentKid), currentKid }
}

const wrapFor = async (ws: WorkspaceModel, key: DataKey, createdAt: number, members: readonly { accountId: string; publicJwk: JWK }[]) => {
  const rows = await Promise.all(
    members.map(async (m) => ({ kid: key.kid, createdAt, accountId: m.accountId, jwe: await wrapDataKey(key, m.publicJwk) })),
  )
  ws.transact(() => {
    for (const row of rows) ws.addRow('keyWraps', row)
  })
}

/** Makes `me` a member and creates the first data key generation (once per workspace). */
export const initWorkspaceKeys = async (ws: WorkspaceModel, me: Me, now = Date.now()): Promise<Keyring> => {
  const snap = ws.snapshot()
  if (snap.keyWraps.length) return unlockKeyring(ws, me)
  if (!snap.members.some((m) => m.accountId === me.accountId)) {
    ws.addRow('members', { accountId: me.accountId, name: me.name ?? '', publicKey: checkPublicJwk(me.keys.publicJwk) as never })
  }
  await wrapFor(ws, generateDataKey(), now, [{ accountId: me.accountId, publicJwk: me.keys.publicJwk }])
  return unlockKeyring(ws, me)
}

/** Adds a member and wraps every generation `me` holds for them (they can read existing values). */
export const addMember = async (ws: WorkspaceModel, me: Me, member: { accountId: string; name?: string; publicJwk: JWK }): Promise<void> => {
  const publicJwk = checkPublicJwk(member.publicJwk)
  const ring = await unlockKeyring(ws, me)
  if (!ring.keys.size) throw new CryptoError('NO_KEY', 'you hold no data key of this workspace to share')
  const snap = ws.snapshot()
  const rows = await Promise.all(
    [...ring.keys.values()].map(async (key) => ({
      kid: key.kid,
      createdAt: snap.keyWraps.find((w) => w.kid === key.kid)?.createdAt ?? 0,
      accountId: member.accountId,
      jwe: await wrapDataKey(key, publicJwk),
    })),
  )
  ws.transact(() => {
    if (!snap.members.some((m) => m.accountId === member.accountId))
      ws.addRow('members', { accountId: member.accountId, name: member.name ?? '', publicKey: publicJwk as never })
    for (const row of rows) ws.addRow('keyWraps', row)
  })
}

/**
 * Removes a member: their member row goes, and a new generation is wrapped for everyone who remains. Values
 * sealed before stay readable to the removed member until re-sealed (see `resealVariables`).
 */
export const removeMember = async (ws: WorkspaceModel, me: Me, accountId: string, now = Date.now()): Promise<Keyring> => {
  if (accountId === me.accountId) throw new CryptoError('BAD_KEY', 'remove yourself by leaving, not by rotation')
  const snap = ws.snapshot()
  const remaining = snap.members
    .filter((m) => m.accountId !== accountId && m.publicKey)
    .map((m) => ({ accountId: m.accountId, publicJwk: m.publicKey as unknown as JWK }))
  const gone = snap.members.filter((m) => m.accountId === accountId)
  const key = generateDataKey()
  const createdAt = Math.max(now, ...snap.keyWraps.map((w) => w.createdAt + 1))
  ws.transact(() => {
    for (const m of gone) ws.removeRow('members', m.id)
  })
  await wrapFor(ws, key, createdAt, remaining)
  return unlockKeyring(ws, me)
}
