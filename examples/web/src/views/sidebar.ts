/** The left pane: workspace switcher, the tree of collections, folders and requests, environments, and more. */
import type { FolderSnapshot, IndexEntry, ItemSnapshot } from '@apisync/model'
import type { App, MenuItem, Selection } from '../app.js'
import { h } from '../dom.js'
import { pickFiles } from '../files.js'
import { exportCollectionFile, exportEnvironmentFile, importFile } from '../postman.js'
import type { WorkspaceView } from '../workspace-view.js'
import { iconButton, methodBadge } from './ui.js'

export function sidebar(app: App): HTMLElement {
  const view = app.view!
  const m = view.manifest.snapshot()
  const ro = view.readOnly
  return h(
    'nav',
    { class: 'sidebar', 'aria-label': 'Workspace' },
    workspaceSwitcher(app),
    section(
      'Collections',
      !ro && [
        iconButton('⤓', 'Import Postman files', () => app.act(() => importFiles(app)), { 'data-testid': 'import' }),
        iconButton('+', 'New collection', () => newCollection(app), { 'data-testid': 'new-collection' }),
      ],
    ),
    h(
      'div',
      { class: 'tree', role: 'tree', 'data-testid': 'tree' },
      m.collections.length === 0 && h('div', { class: 'empty small' }, ro ? 'No collections yet.' : 'No collections yet: create one or import a Postman file.'),
      m.collections.map((entry) => collectionNode(app, view, entry)),
    ),
    section('Environments', !ro && iconButton('+', 'New environment', () => newEnvironment(app), { 'data-testid': 'new-environment' })),
    h(
      'div',
      { class: 'list' },
      m.environments.map((e) => {
        const handle = view.environments.get(e.docId)
        const name = handle?.model.snapshot().name || e.name || 'Untitled environment'
        return navItem(app, { kind: 'environment', id: e.docId }, '◧', name, {
          testid: 'environment-item',
          menu: [
            { label: 'Export as Postman file', action: () => exportEnvironmentFile(view, e.docId) },
            ...(ro ? [] : [{ label: 'Delete', danger: true, action: () => confirmDelete(app, `environment “${name}”`, () => view.manifest.removeRow('environments', e.id)) }]),
          ],
        })
      }),
      navItem(app, { kind: 'globals' }, '◎', 'Globals', { testid: 'globals-item' }),
    ),
    section('Workspace', null),
    h(
      'div',
      { class: 'list' },
      navItem(app, { kind: 'presets' }, '☰', `Header presets (${m.headerPresets.length})`, { testid: 'presets-item' }),
      !view.local && navItem(app, { kind: 'sessions' }, '⌂', 'Devices & sessions', { testid: 'sessions-item' }),
      !view.local && navItem(app, { kind: 'members' }, view.ring.notices.some((n) => n.code === 'KEY_CHANGED') ? '⚠' : '◇', 'Members & keys', { testid: 'members-item' }),
      !view.local && navItem(app, { kind: 'keys' }, '◈', 'Keys & recovery', { testid: 'keys-item' }),
    ),
  )
}

function section(title: string, actions: unknown): HTMLElement {
  return h('div', { class: 'section-head' }, h('span', null, title), h('span', { class: 'section-actions' }, actions as HTMLElement[]))
}

const sameSelection = (a: Selection, b: Selection) => JSON.stringify(a) === JSON.stringify(b)

function navItem(app: App, sel: Selection, icon: string, label: string, o: { testid: string; menu?: MenuItem[] }): HTMLElement {
  return h(
    'div',
    { class: ['nav-item', sameSelection(app.selection, sel) && 'selected'], 'data-testid': o.testid, 'data-name': label, onclick: () => app.select(sel) },
    h('span', { class: 'icon' }, icon),
    h('span', { class: 'label' }, label),
    o.menu && o.menu.length > 0 && iconButton('⋯', 'More', (e) => app.openMenu(e, o.menu!), { class: 'row-menu', 'data-testid': 'item-menu' }),
  )
}

function workspaceSwitcher(app: App): HTMLElement {
  const view = app.view!
  const name = view.local ? 'Scratch pad' : view.manifest.snapshot().name || 'Untitled workspace'
  const items: MenuItem[] = []
  if (app.account) {
    for (const [id, role] of Object.entries(app.account.grants)) {
      items.push({ label: `${id === app.profile?.personalWorkspace ? 'My workspace' : `Workspace ${id.slice(0, 8)}`} · ${role}${id === view.id ? ' ✓' : ''}`, action: () => app.openWorkspace(id) })
    }
    items.push({ label: 'Join a shared workspace…', action: () => joinDialog(app) })
    if (!view.readOnly) items.push({ label: 'Share this workspace…', action: () => shareDialog(app) })
  } else items.push({ label: 'Sign in to sync…', action: () => app.select({ kind: 'welcome' }) })
  return h(
    'button',
    { type: 'button', class: 'ws-switcher', 'data-testid': 'workspace-switcher', onclick: (e: MouseEvent) => app.openMenu(e, items) },
    h('span', { class: 'ws-icon' }, view.local ? '✎' : '▣'),
    h('span', { class: 'ws-name' }, name, h('small', null, view.local ? 'this browser only' : `${view.workspace.role ?? ''} · ${view.id.slice(0, 8)}`)),
    '▾',
  )
}

function joinDialog(app: App): void {
  app.openDialog({
    title: 'Join a shared workspace',
    body: 'Paste the workspace id its owner shared with you. (Dev sign-in grants the role you ask for; a real host decides.)',
    fields: [
      { name: 'id', label: 'Workspace id', placeholder: 'e.g. 3f2a…' },
      { name: 'role', label: 'Role', type: 'select', value: 'viewer', options: [{ value: 'viewer', label: 'Viewer (read only)' }, { value: 'editor', label: 'Editor' }] },
    ],
    submit: 'Join',
    onSubmit: (v) => app.joinWorkspace(v.id ?? '', v.role === 'editor' ? 'editor' : 'viewer'),
  })
}

function shareDialog(app: App): void {
  const view = app.view!
  app.openDialog({
    title: 'Share this workspace',
    body: `Send this workspace id to a teammate: they join it from their workspace menu. Variable values are encrypted: to let them read them, paste their member code below.`,
    fields: [
      { name: 'id', label: 'Workspace id', value: view.id },
      { name: 'code', label: 'Their member code (optional)', type: 'textarea', placeholder: 'From their Keys & recovery page' },
    ],
    submit: 'Done',
    onSubmit: async (v) => {
      if (v.code?.trim()) await app.addMember(v.code)
    },
  })
}

function newCollection(app: App): void {
  app.openDialog({
    title: 'New collection',
    fields: [{ name: 'name', label: 'Name', placeholder: 'Shop API' }],
    submit: 'Create',
    onSubmit: async (v) => {
      const view = app.requireWritable()
      const name = v.name?.trim() || 'New collection'
      const handle = await view.workspace.createCollection({ name })
      await view.openCollection(handle.model.id)
      app.ui.expanded.add(handle.model.id)
      app.select({ kind: 'collection', collectionId: handle.model.id })
    },
  })
}

function newEnvironment(app: App): void {
  app.openDialog({
    title: 'New environment',
    fields: [{ name: 'name', label: 'Name', placeholder: 'Staging' }],
    submit: 'Create',
    onSubmit: async (v) => {
      const view = app.requireWritable()
      const handle = await view.workspace.createEnvironment({ name: v.name?.trim() || 'New environment' })
      await view.openEnvironment(handle.model.id)
      app.select({ kind: 'environment', id: handle.model.id })
    },
  })
}

async function importFiles(app: App): Promise<void> {
  app.requireWritable()
  const files = await pickFiles()
  // A newman report goes to the collection of the same name (or comes with its own); the runs page picks one.
  for (const file of files) app.toast(await importFile(app, file, null))
}

export function confirmDelete(app: App, what: string, action: () => void): void {
  app.openDialog({ title: `Delete ${what}?`, body: 'Others see it go too. A concurrent edit on another device brings it back as a conflict.', fields: [], submit: 'Delete', danger: true, onSubmit: () => action() })
}

/** Asks for a name, then creates a folder or request. */
export function newItemDialog(app: App, collectionId: string, kind: 'folder' | 'request', parent: string | null): void {
  app.openDialog({
    title: kind === 'folder' ? 'New folder' : 'New request',
    fields: [{ name: 'name', label: 'Name', placeholder: kind === 'folder' ? 'Auth' : 'Get user' }],
    submit: 'Create',
    onSubmit: (v) => {
      const model = app.collection(collectionId)
      app.requireWritable()
      if (!model) return
      const name = v.name?.trim() || (kind === 'folder' ? 'New folder' : 'New request')
      const id = kind === 'folder' ? model.createFolder({ name }, { parent }) : model.createRequest({ name, method: 'GET' }, { parent })
      app.ui.expanded.add(collectionId)
      if (parent) app.ui.expanded.add(parent)
      app.select(kind === 'folder' ? { kind: 'folder', collectionId, id } : { kind: 'request', collectionId, id })
    },
  })
}

function moveDialog(app: App, collectionId: string, item: ItemSnapshot): void {
  const model = app.collection(collectionId)
  if (!model) return
  const options = [{ value: '', label: '(top level of the collection)' }]
  const walk = (items: readonly ItemSnapshot[], path: string) => {
    for (const i of items) {
      if (i.kind !== 'folder' || i.id === item.id) continue
      options.push({ value: i.id, label: `${path}${i.name || 'Untitled folder'}` })
      walk(i.items, `${path}${i.name} / `)
    }
  }
  walk(model.snapshot().items, '')
  app.openDialog({
    title: `Move “${item.name}”`,
    fields: [{ name: 'parent', label: 'Into', type: 'select', value: model.parentId(item.id) ?? '', options }],
    submit: 'Move',
    onSubmit: (v) => {
      app.requireWritable()
      model.move(item.id, { parent: v.parent || null })
      if (v.parent) app.ui.expanded.add(v.parent)
    },
  })
}

// ------------------------------------------------------------------------------------------------ tree

function collectionNode(app: App, view: WorkspaceView, entry: IndexEntry): HTMLElement {
  const handle = view.collections.get(entry.docId)
  const snap = handle?.model.snapshot()
  const id = entry.docId
  const name = snap?.name || entry.name || 'Untitled collection'
  const expanded = app.ui.expanded.has(id)
  const ro = view.readOnly
  const selected = (app.selection.kind === 'collection' || app.selection.kind === 'runs') && app.selection.collectionId === id
  const menu: MenuItem[] = ro
    ? [
        { label: 'Export as Postman file', action: () => app.act(() => exportCollectionFile(view, id)) },
        { label: 'Run results', action: () => app.select({ kind: 'runs', collectionId: id }) },
      ]
    : [
        { label: 'New request', action: () => newItemDialog(app, id, 'request', null) },
        { label: 'New folder', action: () => newItemDialog(app, id, 'folder', null) },
        { label: 'Rename', action: () => startRename(app, id) },
        { label: 'Export as Postman file', action: () => app.act(() => exportCollectionFile(view, id)) },
        { label: 'Run results', action: () => app.select({ kind: 'runs', collectionId: id }) },
        { label: 'Delete', danger: true, action: () => confirmDelete(app, `collection “${name}”`, () => view.manifest.removeRow('collections', entry.id)) },
      ]
  return h(
    'div',
    { key: id, class: 'tree-group', role: 'treeitem', 'aria-expanded': expanded ? 'true' : 'false' },
    h(
      'div',
      {
        class: ['tree-row', 'collection-row', selected && 'selected'],
        'data-testid': 'tree-item',
        'data-kind': 'collection',
        'data-name': name,
        onclick: () => {
          if (!expanded) app.ui.expanded.add(id)
          app.select({ kind: 'collection', collectionId: id })
        },
        ...dropTarget(app, id, null, null),
      },
      chevron(app, id, expanded),
      h('span', { class: 'icon' }, '▤'),
      app.ui.renaming === id && !ro ? renameInput(app, name, (v) => renameCollection(app, view, entry, v)) : h('span', { class: 'label' }, name),
      snap && snap.conflicts.length > 0 && h('span', { class: 'conflict-dot', title: `${snap.conflicts.length} conflict(s)` }, '⚑'),
      iconButton('⋯', 'More', (e) => app.openMenu(e, menu), { class: 'row-menu', 'data-testid': 'item-menu' }),
    ),
    expanded && h('div', { class: 'tree-children' }, !snap ? h('div', { class: 'empty small' }, 'Loading…') : snap.items.length === 0 ? h('div', { class: 'empty small indent' }, 'Empty') : snap.items.map((i) => itemNode(app, view, id, i, 1))),
  )
}

function renameCollection(app: App, view: WorkspaceView, entry: IndexEntry, name: string): void {
  app.act(() => {
    app.requireWritable()
    const model = app.collection(entry.docId)
    model?.updateCollection({ name })
    view.manifest.updateRow('collections', entry.id, { name })
  })
}

function chevron(app: App, id: string, expanded: boolean): HTMLElement {
  return h(
    'span',
    {
      class: ['chevron', expanded && 'open'],
      onclick: (e: MouseEvent) => {
        e.stopPropagation()
        if (expanded) app.ui.expanded.delete(id)
        else app.ui.expanded.add(id)
        app.invalidate()
      },
    },
    '›',
  )
}

function startRename(app: App, id: string): void {
  app.ui.renaming = id
  app.invalidate()
}

function renameInput(app: App, value: string, commit: (v: string) => void): HTMLElement {
  const done = (e: Event) => {
    const v = (e.target as HTMLInputElement).value.trim()
    app.ui.renaming = null
    if (v && v !== value) commit(v)
    app.invalidate()
  }
  return h('input', {
    class: 'rename',
    value,
    autofocus: true,
    'data-testid': 'rename-input',
    onclick: (e: MouseEvent) => e.stopPropagation(),
    onblur: done,
    onkeydown: (e: KeyboardEvent) => {
      if (e.key === 'Enter') (e.target as HTMLInputElement).blur()
      if (e.key === 'Escape') {
        app.ui.renaming = null
        app.invalidate()
      }
    },
  })
}

function itemNode(app: App, view: WorkspaceView, collectionId: string, item: ItemSnapshot, depth: number): HTMLElement {
  const model = view.collections.get(collectionId)!.model
  const ro = view.readOnly
  const isFolder = item.kind === 'folder'
  const expanded = isFolder && app.ui.expanded.has(item.id)
  const sel = app.selection
  const selected = (sel.kind === 'request' || sel.kind === 'folder') && sel.id === item.id
  const name = item.name || (isFolder ? 'Untitled folder' : 'Untitled request')
  const menu: MenuItem[] = ro
    ? []
    : [
        ...(isFolder
          ? [
              { label: 'New request', action: () => newItemDialog(app, collectionId, 'request', item.id) },
              { label: 'New folder', action: () => newItemDialog(app, collectionId, 'folder', item.id) },
            ]
          : []),
        { label: 'Rename', action: () => startRename(app, item.id) },
        { label: 'Move to…', action: () => moveDialog(app, collectionId, item) },
        { label: 'Delete', danger: true, action: () => confirmDelete(app, `${item.kind} “${name}”`, () => model.delete(item.id)) },
      ]
  const conflicts = model.snapshot().conflicts.filter((c) => c.ownerId === item.id).length
  return h(
    'div',
    { key: item.id, class: 'tree-group', role: 'treeitem' },
    h(
      'div',
      {
        class: ['tree-row', selected && 'selected', app.ui.dragging?.id === item.id && 'dragging'],
        style: `padding-left:${8 + depth * 14}px`,
        'data-testid': 'tree-item',
        'data-kind': item.kind,
        'data-name': name,
        'data-id': item.id,
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
          if (isFolder && !expanded) app.ui.expanded.add(item.id)
          app.select(isFolder ? { kind: 'folder', collectionId, id: item.id } : { kind: 'request', collectionId, id: item.id })
        },
        ...dropTarget(app, collectionId, item, model.parentId(item.id) ?? null),
      },
      isFolder ? chevron(app, item.id, expanded) : h('span', { class: 'chevron-space' }),
      isFolder ? h('span', { class: 'icon' }, '▸') : methodBadge(item.method),
      app.ui.renaming === item.id && !ro ? renameInput(app, name, (v) => app.edit(collectionId, (m) => m.updateItem(item.id, { name: v }))) : h('span', { class: 'label' }, name),
      conflicts > 0 && h('span', { class: 'conflict-dot', title: `${conflicts} conflict(s)` }, '⚑'),
      menu.length > 0 && iconButton('⋯', 'More', (e) => app.openMenu(e, menu), { class: 'row-menu', 'data-testid': 'item-menu' }),
    ),
    expanded && h('div', { class: 'tree-children' }, (item as FolderSnapshot).items.map((c) => itemNode(app, view, collectionId, c, depth + 1))),
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
          app.ui.expanded.add(target.id)
        } else m.move(id, { parent: targetParent, placement: { before: target.id } })
      })
    },
  }
}
