/**
 * The History panel of a collection, or of one request or folder in it: the versions the relay keeps (when,
 * who on which device, what changed in words), newest first and paged; any two of them (or one and now)
 * compared in words; a version opened read-only. Restore (the whole collection, the item, or one field, as in
 * an earlier version) is a write on the live doc: it syncs like any edit, and Undo reverts it.
 */
import type { SyncedDoc } from '@apisync/client'
import type { CollectionModel, DocModel, ItemSnapshot, Json } from '@apisync/model'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { type Change, type DocDiff, type Version, historyApi } from '../history-api.js'
import { type HistoryStore, type Loaded, type PanelState, historyStore } from '../history-store.js'
import { collectionPreview, itemPreview } from './item-preview.js'
import { authorLabel } from './people.js'
import { button, clock, empty, relativeTime } from './ui.js'

/** The last restore made from a History panel, offered for undo while nothing else was done since. */
let lastRestore: { readonly collectionId: string; readonly text: string; readonly model: CollectionModel } | null = null

export function historyView(app: App, collectionId: string, id: string | undefined): HTMLElement {
  const view = app.view!
  const handle = view.collections.get(collectionId)
  const api = historyApi(view.workspace, view.local)
  if (!handle) return h('div', { class: 'placeholder' }, h('p', { class: 'muted' }, 'This collection is not here anymore.'))
  const model = handle.model
  const name = model.snapshot().name || 'Collection'
  const subject = id ? (model.get(id) ?? model.getDeleted(id)) : undefined
  const title = id ? `History of ${subject?.kind ?? 'item'} “${subject?.name || 'Untitled'}”` : `History of ${name}`
  const head = [
    h(
      'div',
      { class: 'breadcrumb' },
      h('a', { onclick: () => app.select({ kind: 'collection', collectionId }) }, name),
      subject && [' › ', h('a', { onclick: () => app.select({ kind: subject.kind, collectionId, id: subject.id }) }, subject.name || 'Untitled')],
      ' › History',
    ),
    h('div', { class: 'title-row' }, h('h2', null, title), h('span', { class: 'spacer' }), button('Trash', () => app.select({ kind: 'trash', collectionId }), { 'data-testid': 'open-trash' })),
  ]
  if (!api)
    return h(
      'div',
      { class: 'editor history-panel', key: `history:${collectionId}:${id ?? ''}`, 'data-testid': 'history' },
      head,
      empty('The scratch pad keeps no history: it is on this device only. Sign in and move it into a workspace to keep its versions.'),
    )
  const store = historyStore(view, api, app.invalidate)
  const list = store.versionList(handle)
  store.follow(handle)
  const panel = store.panel(`${collectionId}/${id ?? ''}`)
  // Restores are writes on the live model: not for viewers.
  const restores = view.readOnly ? null : model
  const rows = list.versions.map((v) => ({ v, own: store.diff(handle, v.firstSeq - 1, v.seq) }))
  // A request's or folder's history: the versions that touched it (known once their diff is in).
  const shown = id ? rows.filter((r) => r.own.state !== 'ready' || touching(r.own.value.changes, id, model).length > 0) : rows
  return h(
    'div',
    { class: 'editor history-panel', key: `history:${collectionId}:${id ?? ''}`, 'data-testid': 'history', 'data-versions': String(list.versions.length) },
    head,
    lastRestore && lastRestore.collectionId === collectionId && undoBanner(app, lastRestore),
    h(
      'p',
      { class: 'muted' },
      'Versions kept by the relay, newest first. Pick two (From and To, or a version and Now) to see what changed between them; restoring writes the old value again, as a new change everyone gets.',
    ),
    h(
      'div',
      { class: 'history-grid' },
      h(
        'div',
        { class: 'version-list' },
        h('div', { class: 'version-head muted small' }, h('span', null, 'From'), h('span', null, 'To'), h('span', null, 'Version'), button('↻', () => void store.more(handle, true), { class: 'small subtle', title: 'Look for new versions', 'data-testid': 'history-refresh' })),
        h(
          'ol',
          { class: 'versions', 'data-testid': 'versions' },
          h(
            'li',
            { key: 'now', class: ['version', panel.to === 'live' && 'to'], 'data-testid': 'version-now' },
            h('span', { class: 'pick' }),
            pick(app, panel, 'to', 'live'),
            h('div', { class: 'version-text' }, h('strong', null, 'Now'), h('div', { class: 'muted small' }, 'the collection as it is on this device')),
          ),
          shown.map(({ v, own }) => versionRow(app, panel, v, own, id, model)),
        ),
        list.error && h('p', { class: 'form-error', 'data-testid': 'history-error' }, list.error),
        list.loading ? h('p', { class: 'muted small' }, 'Loading…') : list.versions.length === 0 && !list.error && empty('No versions yet: the relay keeps them as changes reach it.'),
        list.next !== null && !list.loading && button('Load more', () => void store.more(handle), { class: 'small', 'data-testid': 'history-more' }),
      ),
      h(
        'div',
        { class: 'history-detail' },
        panel.from !== null && comparison(app, store, handle, panel, list.versions, id, restores, name),
        panel.opened !== null && openedVersion(app, store, handle, panel, list.versions, id, restores),
        panel.from === null && panel.opened === null && h('p', { class: 'muted' }, 'Choose From on a version to compare it with Now, or View to see it as it was.'),
      ),
    ),
  )
}

function versionRow(app: App, panel: PanelState, v: Version, own: Loaded<DocDiff>, id: string | undefined, model: CollectionModel): HTMLElement {
  const summary = own.state === 'loading' ? '…' : own.state === 'error' ? own.message : id ? summarize(touching(own.value.changes, id, model)) : own.value.summary || 'no visible change'
  return h(
    'li',
    { key: String(v.seq), class: ['version', panel.from === v.seq && 'from', panel.to === v.seq && 'to', panel.opened === v.seq && 'opened'], 'data-testid': 'version', 'data-seq': String(v.seq) },
    pick(app, panel, 'from', v.seq),
    pick(app, panel, 'to', v.seq),
    h(
      'div',
      { class: 'version-text' },
      h('div', null, h('strong', { title: new Date(v.at).toLocaleString() }, relativeTime(v.at)), h('span', { class: 'muted small' }, ` ${clock(v.at)}`)),
      h('div', { class: 'small', 'data-testid': 'version-authors' }, v.authors.map((a) => authorLabel(app, a.account, a.device)).join(' · ')),
      h('div', { class: 'muted small', 'data-testid': 'version-summary' }, summary),
    ),
    button(panel.opened === v.seq ? 'Close' : 'View', () => {
      panel.opened = panel.opened === v.seq ? null : v.seq
      app.invalidate()
    }, { class: 'small', 'data-testid': 'version-view' }),
  )
}

/** A From or To radio of a version row. */
function pick(app: App, panel: PanelState, which: 'from' | 'to', seq: number | 'live'): HTMLElement {
  const checked = panel[which] === seq
  return h('input', {
    type: 'radio',
    class: 'pick',
    'aria-label': which === 'from' ? 'From' : 'To',
    'data-testid': `pick-${which}`,
    checked,
    onchange: () => {
      if (which === 'from' && typeof seq === 'number') panel.from = seq
      else panel.to = seq
      app.invalidate()
    },
  })
}

/** The changes that concern an item: its own, and (a folder) those of what is inside it now or was. */
function touching(changes: readonly Change[], id: string, model: CollectionModel): Change[] {
  const inside = (cid: string) => {
    for (let p = model.parentId(cid); p; p = model.parentId(p)) if (p === id) return true
    return false
  }
  return changes.filter((c) => c.id === id || (c.id !== '' && inside(c.id)))
}

function summarize(changes: readonly Change[]): string {
  if (changes.length === 0) return 'no change to it'
  const fields = changes.filter((c) => c.kind === 'changed' && c.field).map((c) => c.field!)
  const other = changes.filter((c) => c.kind !== 'changed').map((c) => c.kind)
  return [...new Set(other), fields.length ? `${[...new Set(fields)].join(', ')} changed` : ''].filter(Boolean).join('; ')
}

const label = (versions: readonly Version[], seq: number | 'live'): string => {
  if (seq === 'live') return 'now'
  const v = versions.find((x) => x.seq === seq)
  return v ? `the version of ${new Date(v.at).toLocaleString()}` : `version ${seq}`
}

function comparison(app: App, store: HistoryStore, handle: SyncedDoc<CollectionModel>, panel: PanelState, versions: readonly Version[], id: string | undefined, restores: CollectionModel | null, name: string): HTMLElement {
  const from = panel.from!
  let to = panel.to
  // Always older → newer.
  const [a, b] = to !== 'live' && to < from ? [to, from] : [from, to]
  to = b
  const diff = b === 'live' ? store.diffToLive(handle, a) : store.diff(handle, a, b)
  const fromModel = store.version(handle, a)
  // Restoring puts back what `a` had: offered when comparing with now, where the diff is what it would undo.
  const canRestore = restores !== null && b === 'live'
  const ready = fromModel.state === 'ready' ? (fromModel.value as CollectionModel) : null
  const changes = diff.state === 'ready' ? (id ? touching(diff.value.changes, id, handle.model) : diff.value.changes) : []
  return h(
    'section',
    // Which pair is shown, and whether it is in: a render follows a pick by a frame, so a reader can tell.
    { class: 'comparison', 'data-testid': 'comparison', 'data-from': String(a), 'data-to': String(b), 'data-state': diff.state },
    h('h3', null, `From ${label(versions, a)} to ${label(versions, b)}`),
    diff.state === 'loading' && h('p', { class: 'muted' }, 'Comparing…'),
    diff.state === 'error' && h('p', { class: 'form-error' }, diff.message),
    diff.state === 'ready' && [
      h('p', { class: 'muted small', 'data-testid': 'comparison-summary' }, id ? summarize(changes) : diff.value.summary || 'No change.'),
      changes.length === 0
        ? empty('Nothing changed between these two.')
        : h(
            'ul',
            { class: 'changes', 'data-testid': 'changes' },
            changes.map((c, i) => changeRow(app, handle, c, i, canRestore && ready ? { restores: restores!, from: ready, label: label(versions, a) } : null)),
          ),
      canRestore &&
        h(
          'div',
          { class: 'inline-actions' },
          id
            ? button(`Restore this ${handle.model.get(id)?.kind ?? (ready?.get(id)?.kind ?? 'item')} as in ${label(versions, a)}`, () => restore(app, handle, `“${ready?.get(id)?.name ?? 'it'}” as in ${label(versions, a)}`, (r, m) => r.restoreItem(m, id), ready), { class: 'primary', disabled: !ready || !ready.get(id), 'data-testid': 'restore-item' })
            : button(`Restore all of ${name} as in ${label(versions, a)}`, () => restore(app, handle, `${name} as in ${label(versions, a)}`, (r, m) => r.restoreAll(m), ready), { class: 'primary', disabled: !ready, 'data-testid': 'restore-all' }),
        ),
    ],
  )
}

/** One change, in words, with what restoring it would do. */
function changeRow(app: App, handle: SyncedDoc<CollectionModel>, c: Change, i: number, restore: { restores: CollectionModel; from: CollectionModel; label: string } | null): HTMLElement {
  const what = c.id === '' ? capital(c.entity) : `${capital(c.entity)} “${c.name || 'Untitled'}”`
  const where = c.where.length ? ` in ${c.where.join(' › ')}` : ''
  const item = c.entity === 'request' || c.entity === 'folder'
  const actions =
    restore &&
    [
      (c.kind === 'changed' || c.kind === 'renamed') && c.field !== undefined && button(`Restore ${c.field}`, () => restoreDo(app, handle, `the ${c.field} of ${what} as in ${restore.label}`, () => restore.restores.restoreField(restore.from, c.id, c.field!)), { class: 'small', 'data-testid': 'restore-field' }),
      item && c.kind !== 'added' && button(`Restore ${c.entity}`, () => restoreDo(app, handle, `${what} as in ${restore.label}`, () => restore.restores.restoreItem(restore.from, c.id)), { class: 'small', 'data-testid': 'restore-change-item' }),
    ].filter(Boolean)
  return h(
    'li',
    { key: `${i}:${c.kind}:${c.id}:${c.field ?? ''}`, class: ['change', `change-${c.kind}`], 'data-testid': 'change', 'data-kind': c.kind, 'data-entity': c.entity, 'data-name': c.name, 'data-field': c.field ?? '' },
    h('span', { class: 'change-text', 'data-testid': 'change-text' }, sentence(c, what, where)),
    c.kind === 'changed' && h('div', { class: 'change-values small' }, h('span', { class: 'old', 'data-testid': 'change-before' }, c.sealed ? '(encrypted)' : show(c.before)), ' → ', h('span', { class: 'new', 'data-testid': 'change-after' }, c.sealed ? '(encrypted)' : show(c.after))),
    actions && actions.length > 0 && h('span', { class: 'inline-actions' }, actions),
  )
}

function sentence(c: Change, what: string, where: string): string {
  switch (c.kind) {
    case 'added':
      return `${what} added${where}`
    case 'removed':
      return `${what} removed${where ? ` from ${c.where.join(' › ')}` : ''}`
    case 'renamed':
      return `${capital(c.entity)} “${show(c.before)}” renamed to “${show(c.after)}”${where}`
    case 'moved': {
      if (c.reordered) return `${what} reordered${where}`
      const at = (v: Json | undefined) => {
        const w = v && typeof v === 'object' && !Array.isArray(v) ? (v as { readonly where?: Json }).where : undefined
        return Array.isArray(w) && w.length ? w.join(' › ') : 'the top level'
      }
      return `${what} moved from ${at(c.before)} to ${at(c.after)}`
    }
    case 'changed':
      return `${what}${where}: ${c.field ?? 'it'} changed`
  }
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

/** A value as a person reads it, short: a URL or a raw body as its text, rows as `key: value` lines. */
function show(v: Json | undefined): string {
  if (v === undefined || v === null || v === '') return '(none)'
  let s: string
  if (typeof v === 'string') s = v
  else if (Array.isArray(v) && v.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r) && 'key' in r))
    s = v.map((r) => `${String((r as { key: Json }).key)}: ${String((r as { value?: Json }).value ?? '')}`).join(', ') || '(none)'
  else if (typeof v === 'object' && !Array.isArray(v) && typeof (v as { raw?: Json }).raw === 'string') {
    const o = v as { raw: string; mode?: Json }
    s = typeof o.mode === 'string' && o.mode !== 'raw' ? `${o.mode}` : o.raw
  } else s = JSON.stringify(v)
  return s.length > 160 ? `${s.slice(0, 157)}…` : s
}

function restore(app: App, handle: SyncedDoc<CollectionModel>, text: string, write: (r: CollectionModel, from: CollectionModel) => void, from: CollectionModel | null): void {
  if (!from) return
  restoreDo(app, handle, text, () => write(handle.model, from))
}

function restoreDo(app: App, handle: SyncedDoc<CollectionModel>, text: string, write: () => void): void {
  app.act(() => {
    app.requireWritable()
    write()
    lastRestore = { collectionId: handle.model.id, text, model: handle.model }
    app.toast(`Restored ${text}`)
  })
}

function undoBanner(app: App, r: NonNullable<typeof lastRestore>): HTMLElement {
  return h(
    'div',
    { class: 'banner banner-info', 'data-testid': 'restore-banner' },
    `Restored ${r.text}. `,
    r.model.canUndo() &&
      button('Undo', () =>
        app.act(() => {
          r.model.undo()
          lastRestore = null
          app.toast('The restore was undone')
        }), { class: 'small', 'data-testid': 'restore-undo' }),
    button('Dismiss', () => {
      lastRestore = null
      app.invalidate()
    }, { class: 'small subtle' }),
  )
}

/** A version opened: the collection, or the item, as it was; restore it from here. */
function openedVersion(app: App, store: HistoryStore, handle: SyncedDoc<CollectionModel>, panel: PanelState, versions: readonly Version[], id: string | undefined, restores: CollectionModel | null): HTMLElement {
  const seq = panel.opened!
  const loaded = store.version(handle, seq)
  const m = loaded.state === 'ready' ? (loaded.value as DocModel<unknown> as CollectionModel) : null
  const item: ItemSnapshot | undefined = m && id ? m.get(id) : undefined
  const snap = m?.snapshot()
  return h(
    'section',
    { class: 'opened-version', 'data-testid': 'opened-version', 'data-seq': String(seq) },
    h(
      'div',
      { class: 'title-row' },
      h('h3', null, `As it was: ${label(versions, seq)}`),
      h('span', { class: 'spacer' }),
      button('Compare with now', () => {
        panel.from = seq
        panel.to = 'live'
        app.invalidate()
      }, { class: 'small', 'data-testid': 'compare-now' }),
      restores &&
        m &&
        (id
          ? item && button('Restore this version of it', () => restoreDo(app, handle, `“${item.name}” as in ${label(versions, seq)}`, () => restores.restoreItem(m, id)), { class: 'small primary', 'data-testid': 'restore-opened' })
          : button('Restore this version', () => restoreDo(app, handle, `${snap?.name ?? 'the collection'} as in ${label(versions, seq)}`, () => restores.restoreAll(m)), { class: 'small primary', 'data-testid': 'restore-opened' })),
    ),
    loaded.state === 'loading' && h('p', { class: 'muted' }, 'Opening…'),
    loaded.state === 'error' && h('p', { class: 'form-error' }, loaded.message),
    m && id && (item ? itemPreview(item) : h('p', { class: 'muted' }, 'It did not exist in this version.')),
    m && !id && snap && collectionPreview(snap),
  )
}
