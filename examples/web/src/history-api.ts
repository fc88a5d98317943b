/**
 * The history API the views use: the client's `Workspace.history/openVersion/diffVersions/activity` and the
 * model's `restoreItem/restoreField/restoreAll` (see the packages' READMEs). One place that names them, so a
 * build whose relay has no history (or a scratch pad) says so instead of failing deep in a view.
 */
import type { SyncedDoc, Workspace } from '@apisync/client'
import type { CollectionModel, DocModel, Json } from '@apisync/model'

export interface VersionAuthor {
  readonly account: string
  readonly device: string | null
}

export interface Version {
  readonly doc: string
  readonly seq: number
  readonly firstSeq: number
  readonly at: number
  readonly authors: readonly VersionAuthor[]
  readonly changes: number
}

export interface HistoryPage {
  readonly versions: readonly Version[]
  readonly next: number | null
  readonly oldest: number
}

export interface Change {
  readonly kind: 'added' | 'removed' | 'moved' | 'renamed' | 'changed'
  readonly entity: string
  readonly id: string
  readonly name: string
  readonly where: readonly string[]
  readonly field?: string
  readonly before?: Json
  readonly after?: Json
  /** A variable value that is ciphertext on either side (shown as such, never opened here). */
  readonly sealed?: boolean
  /** A move within the same folder or list. */
  readonly reordered?: boolean
}

export interface DocDiff {
  readonly changes: readonly Change[]
  readonly counts: Readonly<Record<string, number>>
  readonly summary: string
}

export interface ActivityEntry {
  readonly doc: string
  readonly kind: string
  readonly collectionId?: string
  readonly seq: number
  readonly firstSeq: number
  readonly at: number
  readonly account: string | null
  readonly device: string | null
  readonly changes: number
}

export interface ActivityPage {
  readonly entries: readonly ActivityEntry[]
  readonly next: string | null
}

export interface HistoryApi {
  history(doc: SyncedDoc | string, options?: { before?: number; limit?: number }): Promise<HistoryPage>
  openVersion(doc: SyncedDoc | string, seq: number): Promise<DocModel<unknown>>
  diffVersions(doc: SyncedDoc | string, from: number, to: number | 'live'): Promise<DocDiff>
  activity(options?: { before?: string; limit?: number; account?: string; collection?: string }): Promise<ActivityPage>
}

/** The restores of a collection model: each one transaction, one undo step, synced like any edit. */
export interface Restores {
  restoreItem(from: CollectionModel, id: string): void
  restoreField(from: DocModel<unknown>, id: string, field: string): void
  restoreAll(from: DocModel<unknown>): void
}

/** The workspace's history API, or null where this build has none. */
export function historyApi(workspace: Workspace): HistoryApi | null {
  const w = workspace as Workspace & Partial<HistoryApi>
  return typeof w.history === 'function' && typeof w.openVersion === 'function' && typeof w.diffVersions === 'function' && typeof w.activity === 'function' ? (w as unknown as HistoryApi) : null
}

/** A collection model's restores, or null where the model has none. */
export function restoresOf(model: CollectionModel): Restores | null {
  const m = model as CollectionModel & Partial<Restores>
  return typeof m.restoreItem === 'function' && typeof m.restoreField === 'function' && typeof m.restoreAll === 'function' ? (m as unknown as Restores) : null
}

/** A HistoryError's code (`OFFLINE`, `FORBIDDEN`, `GONE`, `NOT_FOUND`, `SIGNED_OUT`), or undefined. */
export const historyErrorCode = (e: unknown): string | undefined =>
  e instanceof Error && typeof (e as { code?: unknown }).code === 'string' ? (e as unknown as { code: string }).code : undefined

/** What a failed history call means to a person. */
export function historyErrorText(e: unknown): string {
  switch (historyErrorCode(e)) {
    case 'OFFLINE':
      return 'History is kept by the relay, which is out of reach right now.'
    case 'GONE':
      return 'That version is older than what the relay keeps.'
    case 'FORBIDDEN':
      return 'The relay does not let this account read this history.'
    case 'NOT_FOUND':
      return 'The relay has no history of this doc yet.'
    case 'SIGNED_OUT':
      return 'Signed out: sign in again to read history.'
    default:
      return e instanceof Error ? e.message : String(e)
  }
}
