/** Collection and folder settings: name, docs, variables, auth, scripts; and the collection's overview. */
import type { CollectionModel, FolderSnapshot, ItemSnapshot } from '@apisync/model'
import type { App, CollectionTab } from '../app.js'
import { h } from '../dom.js'
import { exportCollectionFile } from '../postman.js'
import { description } from './markdown.js'
import { authEditor, textEditor } from './request.js'
import { runControls } from './run-button.js'
import { trashEntries } from '../trash-entries.js'
import { newItemDialog } from './sidebar.js'
import { button, field, tabs } from './ui.js'
import { variablesTable } from './variables.js'

const countItems = (items: readonly ItemSnapshot[]): { requests: number; folders: number } =>
  items.reduce(
    (acc, i) => {
      if (i.kind === 'request') return { ...acc, requests: acc.requests + 1 }
      const inner = countItems(i.items)
      return { requests: acc.requests + inner.requests, folders: acc.folders + 1 + inner.folders }
    },
    { requests: 0, folders: 0 },
  )

export function collectionEditor(app: App, collectionId: string): HTMLElement {
  const view = app.view!
  const model = view.collections.get(collectionId)!.model
  const snap = model.snapshot()
  const ro = view.readOnly
  const edit = (fn: (m: CollectionModel) => void) => app.edit(collectionId, fn)
  const tab = app.ui.collectionTab
  const { requests, folders } = countItems(snap.items)
  return h(
    'div',
    { class: 'editor', key: `collection:${collectionId}`, 'data-testid': 'collection-editor' },
    h('div', { class: 'breadcrumb' }, 'Collection'),
    h(
      'div',
      { class: 'title-row' },
      field(
        snap.name,
        (name) =>
          app.act(() => {
            app.requireWritable()
            model.updateCollection({ name })
            const entry = view.manifest.snapshot().collections.find((c) => c.docId === collectionId)
            if (entry) view.manifest.updateRow('collections', entry.id, { name })
          }),
        { class: 'title-input', disabled: ro, 'aria-label': 'Collection name', 'data-testid': 'collection-name' },
      ),
      h('span', { class: 'spacer' }),
      runControls(app, collectionId, null),
      button('Run results', () => app.select({ kind: 'runs', collectionId }), { 'data-testid': 'open-runs' }),
      !view.local && button('History', () => app.select({ kind: 'history', collectionId }), { 'data-testid': 'open-history' }),
      button(trashLabel(model), () => app.select({ kind: 'trash', collectionId }), { 'data-testid': 'open-trash' }),
      button('Export', () => app.act(() => exportCollectionFile(view, collectionId)), { 'data-testid': 'export-collection' }),
    ),
    tabs<CollectionTab>(
      tab,
      [
        { id: 'overview', label: 'Overview' },
        { id: 'variables', label: `Variables (${snap.variables.length})` },
        { id: 'auth', label: 'Auth' },
        { id: 'scripts', label: 'Scripts' },
      ],
      (t) => {
        app.ui.collectionTab = t
        app.invalidate()
      },
    ),
    h(
      'div',
      { class: 'tab-body' },
      tab === 'overview' && [
        h('div', { class: 'stats' }, stat(String(requests), 'requests'), stat(String(folders), 'folders'), stat(String(snap.conflicts.length), 'open conflicts')),
        !ro &&
          h(
            'div',
            { class: 'inline-actions' },
            button('+ New request', () => newItemDialog(app, collectionId, 'request', null), { 'data-testid': 'new-request' }),
            button('+ New folder', () => newItemDialog(app, collectionId, 'folder', null), { 'data-testid': 'new-folder' }),
          ),
        description(app, collectionId, model, collectionId, ro, '10', 'What this API is, how to authenticate…'),
        snap.problems.length > 0 && h('p', { class: 'muted small' }, `${snap.problems.length} malformed entr${snap.problems.length === 1 ? 'y' : 'ies'} received from others were skipped.`),
      ],
      tab === 'variables' && [
        h('p', { class: 'muted small' }, 'Collection variables are shared in clear, except those of type secret, which are encrypted.'),
        variablesTable(app, { kind: 'collection', id: collectionId }, snap.variables, ro),
      ],
      tab === 'auth' && authEditor(snap.auth, ro, (auth) => edit((m) => m.updateCollection({ auth })), false),
      tab === 'scripts' && [
        h('h3', null, 'Pre-request script (every request)'),
        textEditor(app, collectionId, model, collectionId, 'prerequest', ro),
        h('h3', null, 'Tests (every request)'),
        textEditor(app, collectionId, model, collectionId, 'test', ro),
      ],
    ),
  )
}

/** "Trash", or "Trash (3)": what the Trash lists now. */
const trashLabel = (model: CollectionModel): string => {
  const n = trashEntries(model.deletedItems(), Date.now()).length
  return n ? `Trash (${n})` : 'Trash'
}

const stat = (value: string, label: string) => h('div', { class: 'stat' }, h('strong', null, value), h('span', null, label))

export function folderEditor(app: App, collectionId: string, folder: FolderSnapshot): HTMLElement {
  const view = app.view!
  const model = view.collections.get(collectionId)!.model
  const ro = view.readOnly
  const edit = (fn: (m: CollectionModel) => void) => app.edit(collectionId, fn)
  const id = folder.id
  return h(
    'div',
    { class: 'editor', key: `folder:${id}`, 'data-testid': 'folder-editor' },
    h('div', { class: 'breadcrumb' }, h('a', { onclick: () => app.select({ kind: 'collection', collectionId }) }, model.snapshot().name || 'Collection'), ' › folder'),
    h(
      'div',
      { class: 'title-row' },
      field(folder.name, (name) => edit((m) => m.updateItem(id, { name })), { class: 'title-input', disabled: ro, 'aria-label': 'Folder name', 'data-testid': 'folder-name' }),
      runControls(app, collectionId, id),
      !view.local && button('History', () => app.select({ kind: 'history', collectionId, id }), { 'data-testid': 'open-history' }),
    ),
    !ro &&
      h(
        'div',
        { class: 'inline-actions' },
        button('+ New request here', () => newItemDialog(app, collectionId, 'request', id)),
        button('+ New folder here', () => newItemDialog(app, collectionId, 'folder', id)),
      ),
    h('p', { class: 'muted' }, `${folder.items.length} item(s) directly inside.`),
    description(app, collectionId, model, id, ro, '6'),
    h('h3', null, 'Auth'),
    authEditor(folder.auth, ro, (auth) => edit((m) => m.updateItem(id, { auth })), true),
    h('h3', null, 'Pre-request script'),
    textEditor(app, collectionId, model, id, 'prerequest', ro, { rows: '5' }),
    h('h3', null, 'Tests'),
    textEditor(app, collectionId, model, id, 'test', ro, { rows: '5' }),
  )
}
