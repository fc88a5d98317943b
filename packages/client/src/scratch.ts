/**
 * Adopting the scratch pad into an account: its collections, environments (with their runs and local
 * values) and global variables are copied into a workspace of the account, every id kept. The copies are
 * local changes of the account's docs, so they sync (and count as pending until the relay acks them).
 * Into a workspace with encryption on, the scratch pad's values are sealed first (`options.seal`) and checked:
 * nothing in clear that must be sealed is copied, and if something is, nothing is copied at all.
 */
import { type CollectionModel, type EnvironmentModel, unsealedValues } from '@apisync/model'
import * as Y from 'yjs'
import type { AdoptOptions, AdoptResult } from './account.js'
import { SyncClientError } from './errors.js'
import type { SyncedDoc } from './synced-doc.js'
import type { Workspace } from './workspace.js'

const ADOPT_ORIGIN = Symbol('apisync-adopt')

export const SCRATCH_WORKSPACE_ID = 'scratch'

export async function adoptInto(scratch: Workspace, target: Workspace, options: AdoptOptions = {}): Promise<AdoptResult> {
  const manifest = scratch.manifest.model.snapshot()
  const touched: SyncedDoc[] = []

  // Every doc whose variables are copied: sealed (if asked) and checked before the first copy.
  const sources: SyncedDoc<CollectionModel | EnvironmentModel>[] = [
    ...(await Promise.all(manifest.collections.map((e) => scratch.collection(e.docId)))),
    ...(await Promise.all(manifest.environments.map((e) => scratch.environment(e.docId)))),
    await scratch.globals(),
  ]
  if (options.seal) for (const doc of sources) await options.seal(doc)
  if (target.sealed)
    for (const doc of sources) {
      const open = unsealedValues(doc.model.kind, doc.model.snapshot())
      if (open.length)
        throw new SyncClientError(
          'NOT_SEALED',
          `workspace ${target.id} has encryption on and “${open[0]!.variable.key}” (${doc.name}) is not sealed: pass options.seal to move the scratch pad into it`,
        )
    }

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
