/**
 * Postman files in and out of a workspace (@apisync/postman): collections, environments, globals, newman
 * reports. Imported variable values are sealed before they enter a synced doc; exports open them again, so a
 * file goes out as it came in.
 */
import { type VariableList, environmentVariables, readVariables, setVariableValue } from '@apisync/crypto'
import { type EnvironmentSnapshot, type Json, type Variable, newId } from '@apisync/model'
import {
  exportCollection,
  exportEnvironment,
  exportGlobals,
  importCollection,
  importEnvironment,
  importGlobals,
  importNewmanReport,
} from '@apisync/postman'
import * as Y from 'yjs'
import type { App } from './app.js'
import { downloadText, fileName } from './files.js'
import type { WorkspaceView } from './workspace-view.js'

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
      const id = await importCollectionText(view, text)
      app.ui.expanded.add(id)
      app.select({ kind: 'collection', collectionId: id })
      return `Imported collection “${view.collections.get(id)?.model.snapshot().name ?? file.name}”`
    }
    case 'environment': {
      const id = newId()
      const temp = importEnvironment(text, { id })
      await sealAll(app, view, environmentVariables(temp))
      const handle = await view.workspace.environment(id)
      Y.applyUpdate(handle.doc, Y.encodeStateAsUpdate(temp.doc))
      temp.doc.destroy()
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
      if (!collectionId && report.collection) collectionId = await importCollectionText(view, JSON.stringify(report.collection))
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

async function importCollectionText(view: WorkspaceView, text: string): Promise<string> {
  const id = newId()
  const handle = await view.workspace.collection(id)
  importCollection(text, { doc: handle.doc, id })
  view.manifest.addRow('collections', { docId: id, name: handle.model.snapshot().name })
  await view.openCollection(id)
  return id
}

/** Seals every value of a list that is being imported (it has not synced anywhere yet). */
async function sealAll(app: App, view: WorkspaceView, list: VariableList): Promise<void> {
  if (view.local) return
  const ring = view.ring
  if (!ring.current) throw new Error(app.keyState === 'no-key' ? 'recover your key first (Keys & recovery): values are sealed on import' : 'this workspace has no data key for you yet')
  for (const v of list.variables()) await setVariableValue(list, ring, v.id, v.value)
}

export function exportCollectionFile(view: WorkspaceView, collectionId: string): void {
  const handle = view.collections.get(collectionId)
  if (!handle) return
  const json = exportCollection(handle.model)
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
