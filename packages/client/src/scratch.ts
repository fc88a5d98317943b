/**
 * Adopting the scratch pad into an account: its collections, environments (with their runs and local
 * values) and global variables are copied into a workspace of the account, every id kept. The copies are
 * local changes of the account's docs, so they sync (and count as pending until the relay acks them).
 */
import * as Y from 'yjs'
import type { AdoptResult } from './account.js'
import type { SyncedDoc } from './synced-doc.js'
import type { Workspace } from './workspace.js'

const ADOPT_ORIGIN = Symbol('apisync-adopt')

export const SCRATCH_WORKSPACE_ID = 'scratch'

export async function adoptInto(scratch: Workspace, target: Workspace): Promise<AdoptResult> {
  const manifest = scratch.manifest.model.snapshot()
  const touched: SyncedDoc[] = []
  const copyLocalValues = async (from: SyncedDoc, to: SyncedDoc) => {
    const source = (await scratch.localValues(from)).getSnapshot()
    if (source.size === 0) return
    const dest = await target.localValues(to)
    for (const [id, value] of source) dest.set(id, value)
    await dest.whenStored()
  }
  const copyDoc = async (from: SyncedDoc, to: SyncedDoc) => {
    // The whole Yjs state: items, rows and texts keep their ids (and their history).
    Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc), ADOPT_ORIGIN)
    touched.push(to)
    await copyLocalValues(from, to)
  }

  for (const entry of manifest.collections) {
    await copyDoc(await scratch.collection(entry.docId), await target.collection(entry.docId))
    const runs = await scratch.runs(entry.docId)
    if (runs.model.snapshot().runs.length > 0) await copyDoc(runs, await target.runs(entry.docId))
  }
  for (const entry of manifest.environments) await copyDoc(await scratch.environment(entry.docId), await target.environment(entry.docId))

  const index = target.manifest.model
  const listed = index.snapshot()
  for (const list of ['collections', 'environments'] as const)
    for (const entry of manifest[list])
      if (!listed[list].some((e) => e.docId === entry.docId)) index.addRow(list, { id: entry.id, docId: entry.docId, name: entry.name })
  touched.push(target.manifest)

  // Globals are one doc per workspace on both sides: copy the variables as rows, not the doc.
  const fromGlobals = await scratch.globals()
  const toGlobals = await target.globals()
  const existing = new Set(toGlobals.model.snapshot().variables.map((v) => v.id))
  for (const variable of fromGlobals.model.snapshot().variables)
    if (!existing.has(variable.id)) toGlobals.model.addRow('variables', { ...variable })
  touched.push(toGlobals)
  await copyLocalValues(fromGlobals, toGlobals)

  await Promise.all(touched.map((d) => d.whenStored()))
  return { collections: manifest.collections.map((c) => c.docId), environments: manifest.environments.map((e) => e.docId) }
}
