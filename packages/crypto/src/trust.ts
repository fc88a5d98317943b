/**
 * Whose key is this? A member must not have to trust the relay for another account's public keys, so:
 * - each account's keys have a safety code, short enough for two people to compare (`safetyCode`);
 * - a device pins the keys it has seen for each account, and the genesis record of each workspace, the first
 *   time it sees them (trust on first use), and warns loudly when they change (keyring.ts);
 * - a token from the host that endorses the account's signing key (RFC 7800 `cnf` with an RFC 7638 `jkt`
 *   thumbprint) is checked against the keys the device holds (`checkKeyEndorsement`).
 *
 * Pins live in a TrustStore the host provides: a small string key-value store on the device (localStorage,
 * IndexedDB, a file). Never on the relay: the relay is who the pins guard against.
 */
import { decodeJwt } from 'jose'
import type { AccountKeys } from './account-keys.js'
import { thumbprint } from './account-keys.js'

/** A device-local string store for pins. Implementations may be sync or async. */
export interface TrustStore {
  get(key: string): string | undefined | null | Promise<string | undefined | null>
  set(key: string, value: string): void | Promise<void>
}

/** A TrustStore in memory (tests, or a device that keeps nothing: it then trusts on every first use). */
export const memoryTrustStore = (): TrustStore & { readonly entries: ReadonlyMap<string, string> } => {
  const entries = new Map<string, string>()
  return { entries, get: (k) => entries.get(k), set: (k, v) => void entries.set(k, v) }
}

/** What a device pinned for an account: the thumbprints of its keys and their safety code. */
export interface KeyPin {
  readonly enc: string
  readonly sig?: string
  readonly code: string
}

export const pinKeys = {
  account: (accountId: string) => `apisync-trust:key:${accountId}`,
  root: (workspaceId: string) => `apisync-trust:root:${workspaceId}`,
  records: (workspaceId: string) => `apisync-trust:records:${workspaceId}`,
  verified: (workspaceId: string) => `apisync-trust:verified:${workspaceId}`,
}

export const readPin = async (trust: TrustStore, accountId: string): Promise<KeyPin | undefined> => {
  const raw = await trust.get(pinKeys.account(accountId))
  if (!raw) return undefined
  try {
    const p = JSON.parse(raw) as KeyPin
    return typeof p.enc === 'string' && typeof p.code === 'string' ? p : undefined
  } catch {
    return undefined
  }
}

export const writePin = (trust: TrustStore, accountId: string, pin: KeyPin) => trust.set(pinKeys.account(accountId), JSON.stringify(pin))

/**
 * The safety code of an account's keys: 20 digits in groups of five, from SHA-256 over the RFC 7638 thumbprints
 * of its signing and ECDH keys. Two people reading the same code know their devices hold the same keys.
 */
export const safetyCodeOf = async (jkts: { readonly enc: string; readonly sig?: string | undefined }): Promise<string> => {
  const digest = new Uint8Array(
    await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(`apisync-safety-code:1:${jkts.sig ?? '-'}:${jkts.enc}`)),
  )
  const groups: string[] = []
  for (let g = 0; g < 4; g++) {
    let n = 0
    for (let i = 0; i < 5; i++) n = n * 256 + digest[g * 5 + i]!
    groups.push(String(n % 100_000).padStart(5, '0'))
  }
  return groups.join(' ')
}

/** The safety code of an account's own keys, to show to the people it works with. */
export const safetyCode = async (keys: AccountKeys): Promise<string> =>
  safetyCodeOf({ enc: await thumbprint(keys.publicJwk), sig: keys.signing ? await thumbprint(keys.signing.publicJwk) : undefined })

export type KeyEndorsement =
  /** The token names no key. */
  | { readonly state: 'none' }
  /** The token's `cnf.jkt` is this account's signing key. */
  | { readonly state: 'endorsed'; readonly jkt: string }
  /** The token's `cnf.jkt` names another key: this device does not hold the key the host knows for the account. */
  | { readonly state: 'mismatch'; readonly jkt: string; readonly held: string | undefined }

/**
 * Checks an access token's RFC 7800 confirmation claim (`cnf: { jkt }`, an RFC 7638 SHA-256 thumbprint of the
 * account's ES256 signing key) against the keys this device holds. The token's signature is the relay's to
 * check; this only reads the claim the host put there.
 */
export const checkKeyEndorsement = async (token: string, keys: AccountKeys): Promise<KeyEndorsement> => {
  let cnf: unknown
  try {
    cnf = decodeJwt(token).cnf
  } catch {
    return { state: 'none' }
  }
  const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as { jkt?: unknown }).jkt : undefined
  if (typeof jkt !== 'string' || jkt === '') return { state: 'none' }
  const held = keys.signing ? await thumbprint(keys.signing.publicJwk) : undefined
  return held === jkt ? { state: 'endorsed', jkt } : { state: 'mismatch', jkt, held }
}
