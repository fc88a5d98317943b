/**
 * Keeping the account's key pair on the relay for a new device: wrapped under the recovery passphrase here,
 * stored opaque there (`PUT/GET /account/key-backup`, see docs/protocol.md).
 */
import type { AccountKeys } from './account-keys.js'
import { CryptoError } from './errors.js'
import { lockAccountKeys, unlockAccountKeys } from './recovery.js'

export interface RelayAccess {
  /** The relay's http(s) base URL. */
  readonly relayUrl: string
  /** An access token of the account. */
  readonly token: string
  readonly fetch?: typeof fetch
}

const endpoint = (relayUrl: string) => `${relayUrl.replace(/^ws/, 'http').replace(/\/$/, '')}/account/key-backup`

export const backUpAccountKeys = async (access: RelayAccess, keys: AccountKeys, passphrase: string): Promise<void> => {
  const backup = await lockAccountKeys(keys, passphrase)
  const res = await (access.fetch ?? fetch)(endpoint(access.relayUrl), {
    method: 'PUT',
    headers: { authorization: `Bearer ${access.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ backup }),
  })
  if (!res.ok) throw new Error(`the relay refused the key backup: ${res.status} ${await res.text()}`)
}

/** The account's key pair from the relay, or undefined if it has none. Throws WRONG_PASSPHRASE. */
export const recoverAccountKeys = async (access: RelayAccess, passphrase: string): Promise<AccountKeys | undefined> => {
  const res = await (access.fetch ?? fetch)(endpoint(access.relayUrl), { headers: { authorization: `Bearer ${access.token}` } })
  if (res.status === 404) return undefined
  if (!res.ok) throw new Error(`the relay refused the key backup: ${res.status} ${await res.text()}`)
  const { backup } = (await res.json()) as { backup?: unknown }
  if (typeof backup !== 'string') throw new CryptoError('TAMPERED', 'the relay returned no backup')
  return unlockAccountKeys(backup, passphrase)
}
