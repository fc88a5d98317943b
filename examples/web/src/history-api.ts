/**
 * The history API the views use: the client's `Workspace.history/openVersion/diffVersions/activity` (the relay
 * keeps the versions) and the model's `diffDocs` types; restores are the live model's
 * `restoreItem/restoreField/restoreAll`. And what a failed call means to a person.
 */
import { HistoryError, type SyncedDoc, type Workspace } from '@apisync/client'
import type { DocModel } from '@apisync/model'

export type { ActivityEntry, ActivityPage, HistoryPage, Version } from '@apisync/client'
export type { Change, DocDiff } from '@apisync/model'

/** A workspace's history calls (the scratch pad has none: it never syncs). */
export type HistoryApi = Pick<Workspace, 'history' | 'diffVersions' | 'activity'> & {
  openVersion(doc: SyncedDoc | string, seq: number): Promise<DocModel<unknown>>
}

/** The workspace's history API (null for the scratch pad, which keeps none). */
export function historyApi(workspace: Workspace, local: boolean): HistoryApi | null {
  if (local) return null
  return {
    history: (doc, options) => workspace.history(doc, options),
    diffVersions: (doc, from, to) => workspace.diffVersions(doc, from, to),
    activity: (options) => workspace.activity(options),
    openVersion: (doc, seq) => (typeof doc === 'string' ? workspace.openVersion(doc, seq) : workspace.openVersion(doc.name, seq)),
  }
}

/** What a failed history call means to a person. */
export function historyErrorText(e: unknown): string {
  if (!(e instanceof HistoryError)) return e instanceof Error ? e.message : String(e)
  switch (e.code) {
    case 'OFFLINE':
      return 'History is kept by the relay, which is out of reach right now.'
    case 'GONE':
      return 'That version is older than what the relay keeps.'
    case 'FORBIDDEN':
      return 'The relay does not let this account read this history.'
    case 'NOT_FOUND':
      return `No history here: ${e.message}`
    case 'SIGNED_OUT':
      return 'Signed out: sign in again to read history.'
    default:
      return e.message
  }
}
