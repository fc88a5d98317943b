/**
 * The collections tree, virtualised: the tree is flattened into rows (collections, then the folders and
 * requests of the expanded ones, depth first), and only the rows in view (plus a margin) are built, in a
 * scrolled box of the full height. A collection of 1,077 requests fully expanded (1,276 rows) costs what 40
 * rows cost, so typing in a URL or expanding a folder does not rebuild the tree.
 *
 * Rows are computed from the model's snapshots, which keep their identity until they change: the flattened
 * rows of a collection are cached on its snapshot and the set of expanded ids, so a render that changed
 * neither does not walk the tree.
 */
import type { CollectionSnapshot, FolderSnapshot, IndexEntry, ItemSnapshot } from '@apisync/model'
import type { App, MenuItem } from '../app.js'
import { h } from '../dom.js'
import { exportCollectionFile } from '../postman.js'
import type { WorkspaceView } from '../workspace-view.js'
import { confirmDelete, moveDialog, newItemDialog, renameCollection, renameInput, startRename } from './sidebar.js'
import { iconButton, methodBadge } from './ui.js'

/** Fixed row height (px): what makes windowing a division. Keep in step with .tree-row in styles.css. */
export const ROW_HEIGHT = 28
/** Rows built above and below the visible ones, so a scroll shows built rows before the next render. */
const OVERSCAN = 12

interface Row {
  readonly key: string
  readonly collectionId: string
  readonly entry: IndexEntry
  /** null: the collection's own row. */
  readonly item: ItemSnapshot | null
  readonly depth: number
  readonly expanded: boolean
}

/** Rows of one collection, cached per (snapshot, expanded-set version). */
const cache = new WeakMap<object, { version: number; rows: Row[] }>()
const conflictCounts = new WeakMap<object, Map<string, number>>()

function collectionRows(entry: IndexEntry, snap: CollectionSnapshot | undefined, expanded: ReadonlySet<string>, version: number): Row[] {
  const id = entry.docId
  const open = expanded.has(id)
  const key = snap ?? entry
  const hit = cache.get(key)
  if (hit && hit.version === version) return hit.rows
  const rows: Row[] = [{ key: id, collectionId: id, entry, item: null, depth: 0, expanded: open }]
  if (open && snap) {
    const walk = (items: readonly ItemSnapshot[], depth: number) => {
      for (const item of items) {
        const isOpen = item.kind === 'folder' && expanded.has(item.id)
        rows.push({ key: item.id, collectionId: id, entry, item, depth, expanded: isOpen })
        if (isOpen) walk((item as FolderSnapshot).items, depth + 1)
      }
    }
    walk(snap.items, 1)
  }
  cache.set(key, { version, rows })
  return rows
}

/** Every row of the tree, in order. */
export function treeRows(app: App, view: WorkspaceView): Row[] {
  const out: Row[] = []
  for (const entry of view.manifest.snapshot().collections) {
    const snap = view.collections.get(entry.docId)?.model.snapshot()
    for (const row of collectionRows(entry, snap, app.ui.expanded, app.ui.expanded.version)) out.push(row)
  }
  return out
}

const windowOf = (app: App, count: number): [number, number] => {
  const viewport = app.ui.treeViewport || 800
  const first = Math.max(0, Math.floor(app.ui.treeScroll / ROW_HEIGHT) - OVERSCAN)
  return [first, Math.min(count, Math.ceil((app.ui.treeScroll + viewport) / ROW_HEIGHT) + OVERSCAN)]
}

/**
 * What the built rows show, as one string: the tree is rebuilt only when it changes (see dom.ts memo). An
 * edit of a request's URL changes its snapshot but not its row.
 */
export function treeSignature(app: App, view: WorkspaceView): string {
  const rows = treeRows(app, view)
  const [first, last] = windowOf(app, rows.length)
  let sig = `${rows.length}:${first}`
  for (let i = first; i < last; i++) {
    const r = rows[i]!
    const item = r.item
    const snap = view.collections.get(r.collectionId)?.model.snapshot()
    const conflicts = snap ? (item ? (conflictsOf(snap).get(item.id) ?? 0) : snap.conflicts.length) : -1
    sig += `|${r.key}:${r.depth}:${r.expanded ? 1 : 0}:${conflicts}:${item ? `${item.kind === 'request' ? item.method : ''}:${item.name}` : `${snap?.name ?? ''}:${r.entry.name}:${snap?.items.length ?? -1}`}`
  }
  return sig
}

/** The tree box: its full height, and the rows in view. */
export function virtualTree(app: App, view: WorkspaceView): HTMLElement {
  const rows = treeRows(app, view)
  const [first, last] = windowOf(app, rows.length)
  const ro = view.readOnly
  return h(
    'div',
    {
      class: 'tree',
      role: 'tree',
      'data-testid': 'tree',
      'data-rows': String(rows.length),
      onscroll: (e: Event) => {
        const el = e.currentTarget as HTMLElement
        const top = el.scrollTop
        const height = el.clientHeight
        // Rebuild only when the window of built rows would run out.
        if (Math.abs(top - app.ui.treeScroll) >= (OVERSCAN / 2) * ROW_HEIGHT || height !== app.ui.treeViewport) {
          app.ui.treeScroll = top
          app.ui.treeViewport = height
          app.invalidate()
        }
      },
    },
    rows.length === 0 && h('div', { class: 'empty small' }, ro ? 'No collections yet.' : 'No collections yet: create one or import a Postman file.'),
    h(
      'div',
      { class: 'tree-space', style: `height:${rows.length * ROW_HEIGHT}px` },
      h(
        'div',
        { class: 'tree-window', style: `transform:translateY(${first * ROW_HEIGHT}px)` },
        rows.slice(first, last).map((row) => (row.item ? itemRow(app, view, row, row.item) : collectionRow(app, view, row))),
      ),
    ),
  )
}

function conflictsOf(snap: CollectionSnapshot): Map<string, number> {
  let counts = conflictCounts.get(snap.conflicts)
  if (!counts) {
    counts = new Map()
    for (const c of snap.conflicts) counts.set(c.ownerId, (counts.get(c.ownerId) ?? 0) + 1)
    conflictCounts.set(snap.conflicts, counts)
  }
  return counts
}

function collectionRow(app: App, view: WorkspaceView, row: Row): HTMLElement {
  const { entry, collectionId: id, expanded } = row
  const snap = view.collections.get(id)?.model.snapshot()
  const name = snap?.name || entry.name || 'Untitled collection'
  const ro = view.readOnly
  const sel = app.selection
  const selected = (sel.kind === 'collection' || sel.kind === 'runs' || sel.kind === 'trash' || (sel.kind === 'history' && !sel.id)) && sel.collectionId === id
  const menu: MenuItem[] = [
    ...(ro
      ? []
      : [
          { label: 'New request', action: () => newItemDialog(app, id, 'request', null) },
          { label: 'New folder', action: () => newItemDialog(app, id, 'folder', null) },
          { label: 'Rename', action: () => startRename(app, id) },
        ]),
    { label: 'Expand all folders', action: () => app.expandAll(id) },
    { label: 'Collapse all folders', action: () => app.collapseAll(id) },
    { label: 'Export as Postman file', action: () => app.act(() => exportCollectionFile(view, id)) },
    { label: 'Run results', action: () => app.select({ kind: 'runs', collectionId: id }) },
    ...(view.local ? [] : [{ label: 'History', action: () => app.select({ kind: 'history', collectionId: id }) }]),
    { label: 'Trash', action: () => app.select({ kind: 'trash', collectionId: id }) },
    ...(ro ? [] : [{ label: 'Delete', danger: true, action: () => confirmDelete(app, `collection “${name}”`, () => view.manifest.removeRow('collections', entry.id)) }]),
  ]
  const conflicts = snap?.conflicts.length ?? 0
  return h(
    'div',
    {
      key: id,
      class: ['tree-row', 'collection-row', selected && 'selected'],
      role: 'treeitem',
      'aria-level': '1',
      'aria-expanded': expanded ? 'true' : 'false',
      'data-testid': 'tree-item',
      'data-kind': 'collection',
      'data-name': name,
      title: name,
      onclick: () => {
        if (!expanded) app.setExpanded(id, true)
        app.select({ kind: 'collection', collectionId: id })
      },
      ...dropTarget(app, id, null, null),
    },
    chevron(app, id, expanded),
    h('span', { class: 'icon' }, '▤'),
    app.ui.renaming === id && !ro ? renameInput(app, name, (v) => renameCollection(app, view, entry, v)) : h('span', { class: 'label' }, name),
    !snap && expanded && h('span', { class: 'muted small' }, 'loading…'),
    snap && expanded && snap.items.length === 0 && h('span', { class: 'muted small' }, 'empty'),
    conflicts > 0 && h('span', { class: 'conflict-dot', title: `${conflicts} conflict(s)` }, '⚑'),
    iconButton('⋯', 'More', (e) => app.openMenu(e, menu), { class: 'row-menu', 'data-testid': 'item-menu' }),
  )
}

function itemRow(app: App, view: WorkspaceView, row: Row, item: ItemSnapshot): HTMLElement {
  const collectionId = row.collectionId
  const model = view.collections.get(collectionId)!.model
  const ro = view.readOnly
  const isFolder = item.kind === 'folder'
  const expanded = row.expanded
  const sel = app.selection
  const selected = (sel.kind === 'request' || sel.kind === 'folder') && sel.id === item.id
  const name = item.name || (isFolder ? 'Untitled folder' : 'Untitled request')
  const conflicts = conflictsOf(model.snapshot()).get(item.id) ?? 0
  return h(
    'div',
    {
      key: item.id,
      class: ['tree-row', selected && 'selected', app.ui.dragging?.id === item.id && 'dragging'],
      role: 'treeitem',
      'aria-level': String(row.depth + 1),
      ...(isFolder ? { 'aria-expanded': expanded ? 'true' : 'false' } : {}),
      style: `padding-left:${8 + row.depth * 14}px`,
      'data-testid': 'tree-item',
      'data-kind': item.kind,
      'data-name': name,
      'data-id': item.id,
      title: isFolder ? name : `${item.method} ${name}`,
      draggable: ro ? 'false' : 'true',
      ondragstart: (e: DragEvent) => {
        app.ui.dragging = { collectionId, id: item.id }
        e.dataTransfer?.setData('text/plain', item.id)
        if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move'
      },
      ondragend: () => {
        app.ui.dragging = null
        app.invalidate()
      },
      onclick: () => {
        if (isFolder && !expanded) app.setExpanded(item.id, true)
        app.select(isFolder ? { kind: 'folder', collectionId, id: item.id } : { kind: 'request', collectionId, id: item.id })
      },
      ...dropTarget(app, collectionId, item, model.parentId(item.id) ?? null),
    },
    isFolder ? chevron(app, item.id, expanded) : h('span', { class: 'chevron-space' }),
    isFolder ? h('span', { class: 'icon' }, '▸') : methodBadge(item.method),
    app.ui.renaming === item.id && !ro ? renameInput(app, name, (v) => app.edit(collectionId, (m) => m.updateItem(item.id, { name: v }))) : h('span', { class: 'label' }, name),
    conflicts > 0 && h('span', { class: 'conflict-dot', title: `${conflicts} conflict(s)` }, '⚑'),
    !ro && iconButton('⋯', 'More', (e) => app.openMenu(e, itemMenu(app, collectionId, item, name, isFolder)), { class: 'row-menu', 'data-testid': 'item-menu' }),
  )
}

function itemMenu(app: App, collectionId: string, item: ItemSnapshot, name: string, isFolder: boolean): MenuItem[] {
  const model = app.collection(collectionId)
  return [
    ...(isFolder
      ? [
          { label: 'New request', action: () => newItemDialog(app, collectionId, 'request', item.id) },
          { label: 'New folder', action: () => newItemDialog(app, collectionId, 'folder', item.id) },
        ]
      : []),
    { label: 'Rename', action: () => startRename(app, item.id) },
    { label: 'Move to…', action: () => moveDialog(app, collectionId, item) },
    ...(app.view?.local ? [] : [{ label: 'History', action: () => app.select({ kind: 'history', collectionId, id: item.id }) }]),
    { label: 'Delete', danger: true, action: () => confirmDelete(app, `${item.kind} “${name}”`, () => model?.delete(item.id)) },
  ]
}

function chevron(app: App, id: string, expanded: boolean): HTMLElement {
  return h(
    'span',
    {
      class: ['chevron', expanded && 'open'],
      'data-testid': 'chevron',
      onclick: (e: MouseEvent) => {
        e.stopPropagation()
        app.setExpanded(id, !expanded)
      },
    },
    '›',
  )
}

/** Drop rules: on a folder or collection, into it (at the end); on a request, just before it. */
function dropTarget(app: App, collectionId: string, target: ItemSnapshot | null, targetParent: string | null): Record<string, unknown> {
  const accepts = () => {
    const d = app.ui.dragging
    return d !== null && d.collectionId === collectionId && d.id !== target?.id
  }
  return {
    ondragover: (e: DragEvent) => {
      if (!accepts()) return
      e.preventDefault()
      ;(e.currentTarget as HTMLElement).classList.add('drop-here')
    },
    ondragleave: (e: DragEvent) => (e.currentTarget as HTMLElement).classList.remove('drop-here'),
    ondrop: (e: DragEvent) => {
      ;(e.currentTarget as HTMLElement).classList.remove('drop-here')
      if (!accepts()) return
      e.preventDefault()
      const id = app.ui.dragging!.id
      app.ui.dragging = null
      app.edit(collectionId, (m) => {
        if (!target) m.move(id, { parent: null })
        else if (target.kind === 'folder') {
          m.move(id, { parent: target.id })
          app.setExpanded(target.id, true)
        } else m.move(id, { parent: targetParent, placement: { before: target.id } })
      })
    },
  }
}
