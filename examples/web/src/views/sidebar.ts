/** The left pane: workspace switcher, the tree of collections, folders and requests, environments, and more. */
import type { IndexEntry, ItemSnapshot } from '@apisync/model'
import type { App, MenuItem, Selection } from '../app.js'
import { h } from '../dom.js'
import { pickFiles } from '../files.js'
import { exportEnvironmentFile, importFile } from '../postman.js'
import type { WorkspaceView } from '../workspace-view.js'
import { virtualTree } from './tree-virtual.js'
import { iconButton } from './ui.js'

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
    virtualTree(app, view),
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
      !view.local && navItem(app, { kind: 'activity' }, '≡', 'Activity', { testid: 'activity-item' }),
      !view.local && navItem(app, { kind: 'sessions' }, '⌂', 'Devices & sessions', { testid: 'sessions-item' }),
      !view.local && navItem(app, { kind: 'members' }, view.ring.notices.some((n) => n.code === 'KEY_CHANGED' || n.code === 'TOKEN_KEY_MISMATCH') ? '⚠' : '◇', 'Members & keys', { testid: 'members-item' }),
      !view.local && navItem(app, { kind: 'keys' }, '◈', 'Keys & recovery', { testid: 'keys-item' }),
    ),
  )
}

/** What the sidebar shows besides the tree, as one string (the sidebar is rebuilt only when this or the tree changed). */
export function sidebarState(app: App): string {
  const view = app.view!
  const envs = view.manifest.snapshot().environments.map((e) => view.environments.get(e.docId)?.model.snapshot().name ?? e.name)
  const d = app.ui.dragging
  // The notices decide the Members entry's ⚠: without them a key notice that came alone would never show there.
  const notices = view.ring.notices.map((n) => n.code)
  return JSON.stringify([app.selection, app.ui.renaming, d?.id ?? null, view.readOnly, view.local, view.manifestSynced, view.workspace.role, envs, notices, app.ui.treeViewport])
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
  const name = view.local ? 'Scratch pad' : view.manifest.snapshot().name || (view.manifestSynced ? 'Untitled workspace' : 'Loading workspace…')
  return h(
    'button',
    { type: 'button', class: 'ws-switcher', 'data-testid': 'workspace-switcher', title: name, onclick: (e: MouseEvent) => app.openMenu(e, workspaceMenu(app)) },
    h('span', { class: 'ws-icon' }, view.local ? '✎' : '▣'),
    h('span', { class: 'ws-name' }, name, h('small', null, view.local ? 'this browser only' : `${view.workspace.role ?? ''} · ${view.id.slice(0, 8)}`)),
    '▾',
  )
}

/** The workspace menu, built when opened: the account's workspaces (its directory and grants), join, share. */
function workspaceMenu(app: App): MenuItem[] {
  const view = app.view!
  const items: MenuItem[] = []
  if (!app.account) return [{ label: 'Sign in to sync…', action: () => app.select({ kind: 'welcome' }) }]
  for (const w of app.workspaceList()) {
    const label = w.id === app.profile?.personalWorkspace ? 'My workspace' : w.name || `Workspace ${w.id.slice(0, 8)}`
    items.push({ label: `${label} · ${w.role ?? 'no access'}${w.id === view.id ? ' ✓' : ''}`, action: () => app.openWorkspace(w.id), disabled: !w.role })
  }
  items.push({ label: 'Join a shared workspace…', action: () => joinDialog(app) })
  if (!view.readOnly) items.push({ label: 'Share this workspace…', action: () => shareDialog(app) })
  return items
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
      await app.life.stored(`the collection “${name}”`)
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
      await app.life.stored(`the environment “${handle.model.snapshot().name}”`)
    },
  })
}

/** An apisync backup starts with its magic, `apisync-backup` (after a one-byte length). */
const isBackupFile = async (file: File): Promise<boolean> =>
  new TextDecoder().decode(new Uint8Array(await file.slice(0, 16).arrayBuffer()).slice(1)).startsWith('apisync-backup')

async function importFiles(app: App): Promise<void> {
  app.requireWritable()
  const files = await pickFiles('.json,application/json,.bin')
  // A newman report goes to the collection of the same name (or comes with its own); the runs page picks one.
  for (const file of files) {
    // A backup (.bin: a sign-out's, a revocation's, an export's) is restored into the account.
    if (await isBackupFile(file)) await app.importBackupFile(file)
    else await app.done(`the import of ${file.name}`, await importFile(app, file, null))
  }
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
    onSubmit: async (v) => {
      const model = app.collection(collectionId)
      app.requireWritable()
      if (!model) return
      const name = v.name?.trim() || (kind === 'folder' ? 'New folder' : 'New request')
      const id = kind === 'folder' ? model.createFolder({ name }, { parent }) : model.createRequest({ name, method: 'GET' }, { parent })
      app.ui.expanded.add(collectionId)
      if (parent) app.ui.expanded.add(parent)
      app.select(kind === 'folder' ? { kind: 'folder', collectionId, id } : { kind: 'request', collectionId, id })
      await app.life.stored(`the ${kind} “${name}”`)
    },
  })
}

export function moveDialog(app: App, collectionId: string, item: ItemSnapshot): void {
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
// The tree itself is views/tree-virtual.ts; these are the actions its rows offer.

export function renameCollection(app: App, view: WorkspaceView, entry: IndexEntry, name: string): void {
  app.act(() => {
    app.requireWritable()
    const model = app.collection(entry.docId)
    model?.updateCollection({ name })
    view.manifest.updateRow('collections', entry.id, { name })
  })
}

export function startRename(app: App, id: string): void {
  app.ui.renaming = id
  app.invalidate()
}

export function renameInput(app: App, value: string, commit: (v: string) => void): HTMLElement {
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
