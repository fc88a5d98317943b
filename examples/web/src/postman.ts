/**
 * Postman files in and out of a workspace (@apisync/postman): collections, environments, globals, newman
 * reports. Imported variable values are sealed by the importer itself, before anything enters a synced doc
 * (a doc of an encrypted workspace refuses them otherwise); exports open them again, so a file goes out as it
 * came in.
 */
import { type Sealer, type VariableList, environmentVariables, readVariables, sealerFor } from '@apisync/crypto'
import { type CollectionSnapshot, type EnvironmentSnapshot, type ItemSnapshot, type Json, type Variable, newId } from '@apisync/model'
import {
  exportCollection,
  exportEnvironment,
  exportGlobals,
  importCollection,
  importEnvironment,
  importGlobals,
  importNewmanReport,
} from '@apisync/postman'
import type { App } from './app.js'
import { downloadText, fileName } from './files.js'
import { type WorkspaceView, variableListsOf } from './workspace-view.js'

export type PostmanKind = 'collection' | 'environment' | 'globals' | 'newman-report'

/** What a Postman JSON file holds, from its shape. */
export const detectKind = (json: unknown): PostmanKind => {
  if (Array.isArray(json)) return 'globals'
  if (typeof json !== 'object' || json === null) return 'collection'
  const o = json as Record<string, unknown>
  if (typeof o.run === 'object' && o.run !== null) return 'newman-report'
  if (o._postman_variable_scope === 'globals') return 'globals'
  if (o._postman_variable_scope === 'environment') return 'environment'
  if (Array.isArray(o.values) && !('item' in o) && !('info' in o)) return 'environment'
  return 'collection'
}

const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)

/** Imports one file into the shown workspace; returns what it did, for a toast. */
export async function importFile(app: App, file: File, collectionHint: string | null): Promise<string> {
  const view = app.requireWritable()
  const text = await file.text()
  let json: unknown
  try {
    json = JSON.parse(stripBom(text))
  } catch {
    throw new Error(`${file.name} is not JSON`)
  }
  switch (detectKind(json)) {
    case 'collection': {
      const id = await importCollectionText(view, text, sealer(app, view))
      app.ui.expanded.add(id)
      app.select({ kind: 'collection', collectionId: id })
      return `Imported collection “${view.collections.get(id)?.model.snapshot().name ?? file.name}”`
    }
    case 'environment': {
      const id = newId()
      const seal = sealer(app, view)
      const handle = await view.workspace.environment(id)
      if (seal) await importEnvironment(text, { doc: handle.doc, id, seal })
      else importEnvironment(text, { doc: handle.doc, id })
      view.manifest.addRow('environments', { docId: id, name: handle.model.snapshot().name })
      app.select({ kind: 'environment', id })
      return `Imported environment “${handle.model.snapshot().name}”`
    }
    case 'globals': {
      const temp = importGlobals(text)
      const vars = temp.snapshot().variables
      for (const v of vars) await app.addVariable({ kind: 'globals' }, { key: v.key, value: String(v.value ?? ''), type: v.type })
      temp.doc.destroy()
      app.select({ kind: 'globals' })
      return `Imported ${vars.length} global variable(s)`
    }
    case 'newman-report': {
      const report = json as { collection?: { info?: { name?: string } } }
      let collectionId = collectionHint
      if (!collectionId) {
        const name = report.collection?.info?.name
        collectionId = [...view.collections].find(([, h]) => h.model.snapshot().name === name)?.[0] ?? null
      }
      if (!collectionId && report.collection) collectionId = await importCollectionText(view, JSON.stringify(report.collection), sealer(app, view))
      if (!collectionId) throw new Error('choose the collection this report belongs to first')
      const collection = (await view.openCollection(collectionId)).model
      const runs = await view.openRuns(collectionId)
      const run = importNewmanReport(text, runs.model, { collection })
      app.select({ kind: 'runs', collectionId })
      app.ui.openRun = run.id
      const failed = run.totals.failedAssertions + run.totals.failedRequests
      return `Imported a run of “${collection.snapshot().name}”: ${failed === 0 ? 'passed' : `${failed} failure(s)`}`
    }
  }
}

async function importCollectionText(view: WorkspaceView, text: string, seal: Sealer | undefined): Promise<string> {
  const id = newId()
  const handle = await view.workspace.collection(id)
  if (seal) await importCollection(text, { doc: handle.doc, id, seal })
  else importCollection(text, { doc: handle.doc, id })
  view.manifest.addRow('collections', { docId: id, name: handle.model.snapshot().name })
  await view.openCollection(id)
  return id
}

/** How imports seal in this workspace: under its current key; nothing in the scratch pad (values stay local). */
function sealer(app: App, view: WorkspaceView): Sealer | undefined {
  if (view.local) return undefined
  const ring = view.ring
  if (!ring.current) throw new Error(app.keyState === 'no-key' ? 'recover your key first (Keys & recovery): values are sealed on import' : 'this workspace has no data key for you yet')
  return sealerFor(ring)
}

/** A collection snapshot with its secret values (its own and its folders') opened, for export. */
async function openedCollection(view: WorkspaceView, collectionId: string): Promise<CollectionSnapshot> {
  const model = view.collections.get(collectionId)!.model
  const opened = new Map<string, Map<string, Json>>()
  for (const list of variableListsOf(model)) {
    const values = new Map<string, Json>()
    for (const v of await readVariables(list, view.ring)) {
      if (v.state !== 'open') throw new Error(`the value of “${v.key}” cannot be opened on this device: export refused`)
      values.set(v.id, v.value)
    }
    opened.set(list.ownerId, values)
  }
  const open = (ownerId: string, vars: readonly Variable[]) => vars.map((v) => ({ ...v, value: opened.get(ownerId)?.get(v.id) ?? v.value }))
  const items = (list: readonly ItemSnapshot[]): ItemSnapshot[] =>
    list.map((i) => (i.kind === 'folder' ? { ...i, variables: open(i.id, i.variables), items: items(i.items) } : i))
  const snap = model.snapshot()
  return { ...snap, variables: open(snap.id, snap.variables), items: items(snap.items) }
}

export async function exportCollectionFile(view: WorkspaceView, collectionId: string): Promise<void> {
  const handle = view.collections.get(collectionId)
  if (!handle) return
  const json = exportCollection(await openedCollection(view, collectionId))
  downloadText(fileName(handle.model.snapshot().name, '.postman_collection.json'), JSON.stringify(json, null, 2))
}

/** A snapshot with the shared values opened, for export; refuses when some value cannot be opened here. */
async function openedSnapshot(view: WorkspaceView, snap: EnvironmentSnapshot, list: VariableList): Promise<EnvironmentSnapshot> {
  const vars = await readVariables(list, view.ring)
  const byId = new Map(vars.map((v) => [v.id, v]))
  const variables = snap.variables.map((v): Variable => {
    const opened = byId.get(v.id)
    if (!opened || opened.state !== 'open') throw new Error(`the value of “${v.key}” cannot be opened on this device: export refused`)
    return { ...v, value: opened.value as Json }
  })
  return { ...snap, variables }
}

export async function exportEnvironmentFile(view: WorkspaceView, id: string): Promise<void> {
  const handle = view.environments.get(id)
  if (!handle) return
  const snap = await openedSnapshot(view, handle.model.snapshot(), environmentVariables(handle.model))
  downloadText(fileName(snap.name, '.postman_environment.json'), JSON.stringify(exportEnvironment(snap), null, 2))
}

export async function exportGlobalsFile(view: WorkspaceView): Promise<void> {
  const handle = view.globals
  if (!handle) return
  const snap = await openedSnapshot(view, handle.model.snapshot(), environmentVariables(handle.model))
  downloadText(fileName(snap.name || 'Globals', '.postman_globals.json'), JSON.stringify(exportGlobals(snap), null, 2))
}
