/**
 * Account keys on this device, and their recovery backup.
 *
 * Each account has one key pair (@apisync/crypto), made on its first sign-in anywhere and kept in this
 * browser's localStorage under the account's id. Workspaces wrap their data keys to it, which is how values
 * are sealed for the relay and opened here. Another device of the account gets the same key from a backup
 * locked with a recovery passphrase: stored on the relay (`PUT/GET /account/key-backup`) where the relay has
 * that endpoint, or carried as a file.
 */
import { type AccountKeys, type Keyring, lockAccountKeys, unlockAccountKeys } from '@apisync/crypto'

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
export const EMPTY_KEYRING: Keyring = Object.freeze({ keys: new Map(), current: undefined, currentKid: undefined })

/** The same public key (the private part never needs comparing: it comes with its public key). */
export const samePublicKey = (a: unknown, b: unknown): boolean => {
  const x = a as { x?: unknown; y?: unknown } | null
  const y = b as { x?: unknown; y?: unknown } | null
  return !!x && !!y && x.x === y.x && x.y === y.y
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

/** What a workspace owner pastes to let another account read the workspace's sealed values. */
export interface MemberCode {
  readonly accountId: string
  readonly name: string
  readonly publicJwk: AccountKeys['publicJwk']
}

export const encodeMemberCode = (code: MemberCode): string => btoa(JSON.stringify(code)).replace(/=+$/, '')

export const decodeMemberCode = (text: string): MemberCode => {
  let parsed: Partial<MemberCode>
  try {
    parsed = JSON.parse(atob(text.trim())) as Partial<MemberCode>
  } catch {
    throw new Error('that is not a member code')
  }
  if (typeof parsed.accountId !== 'string' || typeof parsed.publicJwk !== 'object' || parsed.publicJwk === null)
    throw new Error('that is not a member code')
  return { accountId: parsed.accountId, name: typeof parsed.name === 'string' ? parsed.name : '', publicJwk: parsed.publicJwk }
}
