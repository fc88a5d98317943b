/**
 * The account's workspace directory: which workspaces the person joined, synced to every device of the
 * account, so that a workspace joined on one device is there on the next.
 *
 * It lives in the account's own space on the relay, `~{base64url(SHA-256(accountId))}/account`: the relay
 * grants that workspace id to tokens whose `sub` is the account and to nobody else (no `ws` claim can grant a
 * `~` id; docs/protocol.md), so it needs no grant from the host and cannot be shared by mistake.
 *
 * The doc holds one Y.Map `workspaces`, workspace id → `{ name, role, joinedAt }`: a join or a rename is one
 * map entry (the last write wins, which is right for a list of bookmarks), leaving deletes it.
 */
import * as Y from 'yjs'
import type { Role } from './registry.js'
import type { Subscribable } from './status.js'

export interface DirectoryEntry {
  readonly id: string
  /** The name last seen for it (a workspace's name lives in its manifest; this is for lists). */
  readonly name: string
  readonly role: Role | null
  /** Epoch ms. */
  readonly joinedAt: number
}

const ORIGIN = Symbol('apisync-directory')

/** The name of the account's directory doc. */
export const directoryDocName = async (accountId: string): Promise<string> => `${await accountSpaceId(accountId)}/account`

/** The workspace id of the account's own space: `~` and the base64url SHA-256 of the account id. */
export const accountSpaceId = async (accountId: string): Promise<string> => {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accountId)))
  let binary = ''
  for (const b of digest) binary += String.fromCharCode(b)
  return `~${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`
}

export class WorkspaceDirectory implements Subscribable<readonly DirectoryEntry[]> {
  private readonly map: Y.Map<unknown>
  private snapshot: readonly DirectoryEntry[] | null = null
  private readonly listeners = new Set<() => void>()
  private readonly observer = () => {
    this.snapshot = null
    for (const l of [...this.listeners]) l()
  }

  constructor(readonly doc: Y.Doc) {
    this.map = doc.getMap('workspaces')
    this.map.observe(this.observer)
  }

  /** Joined workspaces, oldest first; malformed entries (from others) are skipped. */
  readonly getSnapshot = (): readonly DirectoryEntry[] => (this.snapshot ??= read(this.map))

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  get(id: string): DirectoryEntry | undefined {
    return this.getSnapshot().find((e) => e.id === id)
  }

  /** Notes a workspace as joined (or updates its name and role). */
  join(id: string, info: { readonly name?: string; readonly role?: Role | null } = {}): void {
    const current = this.get(id)
    const next = { name: info.name ?? current?.name ?? '', role: info.role === undefined ? (current?.role ?? null) : info.role, joinedAt: current?.joinedAt ?? Date.now() }
    if (current && current.name === next.name && current.role === next.role) return
    this.doc.transact(() => this.map.set(id, next), ORIGIN)
  }

  leave(id: string): void {
    if (this.map.has(id)) this.doc.transact(() => this.map.delete(id), ORIGIN)
  }

  destroy(): void {
    this.map.unobserve(this.observer)
    this.listeners.clear()
  }
}

const ROLES = new Set(['owner', 'editor', 'viewer'])

const read = (map: Y.Map<unknown>): DirectoryEntry[] => {
  const out: DirectoryEntry[] = []
  for (const [id, value] of map.entries()) {
    if (typeof value !== 'object' || value === null) continue
    const v = value as { name?: unknown; role?: unknown; joinedAt?: unknown }
    out.push({
      id,
      name: typeof v.name === 'string' ? v.name : '',
      role: typeof v.role === 'string' && ROLES.has(v.role) ? (v.role as Role) : null,
      joinedAt: typeof v.joinedAt === 'number' ? v.joinedAt : 0,
    })
  }
  return out.sort((a, b) => a.joinedAt - b.joinedAt || a.id.localeCompare(b.id))
}
