/**
 * Each account's own space: a workspace id derived from the account id, `~` + base64url(SHA-256(sub)), that
 * the relay grants (as owner) to tokens whose `sub` is that account, and to nobody else. Clients keep
 * per-account docs there (e.g. the list of workspaces the person joined, synced to every device) without the
 * host having to grant anything. No `ws` claim can grant a `~` id: such entries are ignored, so a host's
 * mistake cannot share one account's space with another.
 */
import { createHash } from 'node:crypto'
import type { AccessClaims, Role } from './auth.js'

export const ACCOUNT_SPACE_PREFIX = '~'

export const accountSpaceId = (accountId: string): string =>
  ACCOUNT_SPACE_PREFIX + createHash('sha256').update(accountId, 'utf8').digest('base64url')

/** The role a token has on a workspace: its `ws` grant, or owner of its own account space; else none. */
export const grantedRole = (claims: AccessClaims, workspaceId: string): Role | undefined => {
  if (workspaceId.startsWith(ACCOUNT_SPACE_PREFIX)) return workspaceId === accountSpaceId(claims.sub) ? 'owner' : undefined
  return claims.ws[workspaceId]
}
