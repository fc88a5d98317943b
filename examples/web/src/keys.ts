/**
 * Account keys on this device, their recovery backup, and this device's pins.
 *
 * Each account has its keys (@apisync/crypto: an ECDH pair that data keys are wrapped to, and an ES256 pair
 * that signs its keyring records), made on its first sign-in anywhere and kept in this browser's localStorage
 * under the account's id. Another device of the account gets the same keys from a backup locked with a
 * recovery passphrase: stored on the relay (`PUT/GET /account/key-backup`), or carried as a file. The keys this
 * device has seen for other accounts (and each workspace's genesis record) are pinned in localStorage too.
 */
import {
  type AccountKeys,
  type Keyring,
  type PublicKeys,
  type TrustStore,
  checkPublicJwk,
  lockAccountKeys,
  publicKeysOf,
  unlockAccountKeys,
} from '@apisync/crypto'

const KEYS = 'apisync-web:keys:'
const BACKED_UP = 'apisync-web:key-backup:'

export type BackupPlace = 'relay' | 'file'

export const accountKeys = {
  get(accountId: string): AccountKeys | null {
    const raw = localStorage.getItem(KEYS + accountId)
    return raw ? (JSON.parse(raw) as AccountKeys) : null
  },
  put(accountId: string, keys: AccountKeys): void {
    localStorage.setItem(KEYS + accountId, JSON.stringify(keys))
  },
  forget(accountId: string): void {
    localStorage.removeItem(KEYS + accountId)
    localStorage.removeItem(BACKED_UP + accountId)
  },
  /** Where this device last saved a recovery backup of the account's key, if it did. */
  backedUp(accountId: string): BackupPlace | null {
    return localStorage.getItem(BACKED_UP + accountId) as BackupPlace | null
  },
  noteBackup(accountId: string, place: BackupPlace): void {
    localStorage.setItem(BACKED_UP + accountId, place)
  },
}

/** A keyring that opens nothing (no key yet, or the scratch pad, whose values are local and never sealed). */
export const EMPTY_KEYRING: Keyring = Object.freeze({
  kids: new Set<string>(),
  key: async () => undefined,
  current: undefined,
  currentKid: undefined,
  status: 'empty',
  role: undefined,
  members: [],
  removed: [],
  announcements: [],
  problems: [],
  notices: [],
  endorsement: 'none',
  geneses: [],
})

/** This device's pins for an account (what it has seen of others' keys), in localStorage. */
export const trustStore = (accountId: string): TrustStore => {
  const prefix = `apisync-web:trust:${accountId}:`
  return {
    get: (key) => localStorage.getItem(prefix + key),
    set: (key, value) => localStorage.setItem(prefix + key, value),
  }
}

/**
 * The relay's key-backup endpoint. It holds only the passphrase-locked JWE (PBES2-HS512+A256KW), never the
 * passphrase or the key. `unsupported` when the relay does not have the endpoint.
 */
export class KeyBackup {
  constructor(
    private readonly relayUrl: string,
    private readonly token: (accountId: string) => Promise<string>,
  ) {}

  async save(accountId: string, keys: AccountKeys, passphrase: string): Promise<{ backup: string; stored: boolean }> {
    const backup = await lockAccountKeys(keys, passphrase)
    let stored = false
    try {
      const res = await fetch(`${this.relayUrl}/account/key-backup`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${await this.token(accountId)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ backup }),
      })
      stored = res.ok
    } catch {
      stored = false
    }
    return { backup, stored }
  }

  /** The stored backup, or null when the relay has none (or no such endpoint). */
  async load(accountId: string): Promise<string | null> {
    try {
      const res = await fetch(`${this.relayUrl}/account/key-backup`, { headers: { authorization: `Bearer ${await this.token(accountId)}` } })
      if (!res.ok) return null
      return readBackup(await res.text())
    } catch {
      return null
    }
  }
}

/** A backup as the relay or a file holds it: the JWE itself, or JSON `{ "backup": jwe }`. */
export const readBackup = (text: string): string | null => {
  const trimmed = text.trim()
  if (/^[\w-]+(\.[\w-]*){4}$/.test(trimmed)) return trimmed
  try {
    const parsed = JSON.parse(trimmed) as { backup?: unknown }
    return typeof parsed.backup === 'string' ? parsed.backup : null
  } catch {
    return null
  }
}

export const recoverKeys = (backup: string, passphrase: string): Promise<AccountKeys> => unlockAccountKeys(backup, passphrase)

/** What an admin pastes to let another account read the workspace's sealed values: its id and public keys. */
export interface MemberCode {
  readonly accountId: string
  readonly name: string
  readonly keys: PublicKeys
}

export const memberCodeOf = (accountId: string, name: string, keys: AccountKeys): MemberCode => ({ accountId, name, keys: publicKeysOf(keys) })

export const encodeMemberCode = (code: MemberCode): string => btoa(JSON.stringify(code)).replace(/=+$/, '')

/** A member code; older codes carry only `publicJwk` (the ECDH key): such a member cannot sign until it announces keys. */
export const decodeMemberCode = (text: string): MemberCode => {
  let parsed: { accountId?: unknown; name?: unknown; keys?: { enc?: unknown; sig?: unknown }; publicJwk?: unknown }
  try {
    parsed = JSON.parse(atob(text.trim())) as typeof parsed
  } catch {
    throw new Error('that is not a member code')
  }
  if (typeof parsed.accountId !== 'string') throw new Error('that is not a member code')
  try {
    const enc = checkPublicJwk(parsed.keys?.enc ?? parsed.publicJwk)
    const keys: PublicKeys = parsed.keys?.sig ? { enc, sig: checkPublicJwk(parsed.keys.sig) } : { enc }
    return { accountId: parsed.accountId, name: typeof parsed.name === 'string' ? parsed.name : '', keys }
  } catch {
    throw new Error('that member code holds no valid keys')
  }
}
