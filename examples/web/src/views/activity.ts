/**
 * The workspace's Activity feed: the versions of all its docs (collections, environments, globals, the
 * workspace itself, run results), newest first, paged, filtered by person and by collection. Each entry says
 * who, on which device, when, in which doc, and what changed: that version's diff in words, computed only for
 * the entries scrolled into view.
 */
import { parseDocName } from '@apisync/model'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { type ActivityEntry, type Change, historyApi } from '../history-api.js'
import { type HistoryStore, historyStore } from '../history-store.js'
import { authorLabel, knownPeople } from './people.js'
import { button, clock, empty, relativeTime, select } from './ui.js'

/** Entries scrolled into view at least once (by doc and seq): their summaries are fetched. */
const seen = new Set<string>()
let observer: IntersectionObserver | null = null

const keyOf = (e: ActivityEntry) => `${e.doc}@${e.seq}`

export function activityView(app: App): HTMLElement {
  const view = app.view!
  const api = historyApi(view.workspace, view.local)
  const head = [h('div', { class: 'breadcrumb' }, 'Workspace › Activity'), h('h2', null, 'Activity')]
  if (!api)
    return h('div', { class: 'editor activity', key: 'activity', 'data-testid': 'activity' }, head, empty('The scratch pad keeps no history: it is on this device only.'))
  const store = historyStore(view, api, app.invalidate)
  const filter = store.activity?.filter ?? {}
  const list = store.activityList(filter)
  const setFilter = (patch: { account?: string; collection?: string }) => {
    // The filter as it is when the person acts, not as rendered: two picks within one frame both count.
    const next = { ...(store.activity?.filter ?? {}), ...patch }
    store.activityList(Object.fromEntries(Object.entries(next).filter(([, v]) => v)))
    app.invalidate()
  }
  const collections = view.manifest.snapshot().collections
  const people = knownPeople(app, list.entries.map((e) => e.account))
  watchRows(app)
  return h(
    'div',
    { class: 'editor activity', key: 'activity', 'data-testid': 'activity' },
    head,
    h(
      'div',
      { class: 'activity-filters inline-actions' },
      h('label', null, 'Person ', select(filter.account ?? '', [{ value: '', label: 'Everyone' }, ...people.map((p) => ({ value: p.id, label: p.name }))], (account) => setFilter({ account }), { 'data-testid': 'activity-person' })),
      h('label', null, 'Collection ', select(filter.collection ?? '', [{ value: '', label: 'All docs' }, ...collections.map((c) => ({ value: c.docId, label: collectionName(app, c.docId) }))], (collection) => setFilter({ collection }), { 'data-testid': 'activity-collection' })),
      button('↻ Refresh', () => void store.moreActivity(true), { class: 'small', 'data-testid': 'activity-refresh' }),
    ),
    h(
      'ol',
      { class: 'activity-list', 'data-testid': 'activity-list' },
      list.entries.map((e) => entryRow(app, store, e)),
    ),
    list.error && h('p', { class: 'form-error', 'data-testid': 'activity-error' }, list.error),
    list.loading ? h('p', { class: 'muted small' }, 'Loading…') : list.entries.length === 0 && !list.error && empty('Nothing yet.'),
    list.next !== null && !list.loading && button('Load more', () => void store.moreActivity(), { class: 'small', 'data-testid': 'activity-more' }),
  )
}

function entryRow(app: App, store: HistoryStore, e: ActivityEntry): HTMLElement {
  const key = keyOf(e)
  const diff = seen.has(key) ? store.diff(e.doc, e.firstSeq - 1, e.seq) : null
  const what = !diff || diff.state === 'loading' ? '…' : diff.state === 'error' ? diff.message : describe(diff.value.summary, diff.value.changes)
  const doc = docLabel(app, e)
  return h(
    'li',
    { key, class: 'activity-entry', 'data-testid': 'activity-entry', 'data-key': key, 'data-at': String(e.at), 'data-doc': doc, 'data-kind': e.kind, 'data-summary': diff?.state === 'ready' ? 'ready' : 'pending' },
    h(
      'div',
      { class: 'activity-line' },
      h('strong', { 'data-testid': 'activity-who' }, authorLabel(app, e.account, e.device)),
      ' · ',
      h('span', { 'data-testid': 'activity-doc' }, doc),
      h('span', { class: 'muted small', title: new Date(e.at).toLocaleString() }, ` · ${relativeTime(e.at)} ${clock(e.at)}`),
    ),
    h('div', { class: 'muted small', 'data-testid': 'activity-what' }, what),
    e.kind === 'collection' &&
      e.collectionId &&
      app.view?.collections.has(e.collectionId) &&
      button('Open in History', () => {
        const panel = store.panel(`${e.collectionId}/`)
        panel.from = e.firstSeq - 1
        panel.to = e.seq
        app.select({ kind: 'history', collectionId: e.collectionId! })
      }, { class: 'small subtle', 'data-testid': 'activity-open' }),
  )
}

/** The summary, and for a few changes what they were about: "1 request changed — Login: url". */
function describe(summary: string, changes: readonly Change[]): string {
  if (!summary) return 'no visible change'
  if (changes.length === 0 || changes.length > 3) return summary
  return `${summary} — ${changes.map((c) => `${c.name || (c.id === '' ? c.entity : 'Untitled')}${c.kind === 'changed' && c.field ? `: ${c.field}` : ''}`).join(', ')}`
}

function collectionName(app: App, id: string): string {
  const view = app.view!
  return view.collections.get(id)?.model.snapshot().name || view.manifest.snapshot().collections.find((c) => c.docId === id)?.name || 'Untitled collection'
}

/** Which doc an entry is about, as a person names it. */
function docLabel(app: App, e: ActivityEntry): string {
  const view = app.view!
  const address = parseDocName(e.doc)
  const id = e.collectionId ?? (address && 'id' in address ? address.id : undefined)
  switch (e.kind) {
    case 'collection':
      return id ? collectionName(app, id) : 'a collection'
    case 'runs':
      return `Run results of ${id ? collectionName(app, id) : 'a collection'}`
    case 'environment': {
      const env = id ? view.environments.get(id)?.model.snapshot().name || view.manifest.snapshot().environments.find((x) => x.docId === id)?.name : undefined
      return `Environment ${env || '(deleted)'}`
    }
    case 'globals':
      return 'Globals'
    case 'manifest':
      return 'Workspace'
    default:
      return e.doc
  }
}

/** After this render: watch the entries, and fetch the summary of each one that scrolls into view. */
function watchRows(app: App): void {
  requestAnimationFrame(() => {
    observer ??= new IntersectionObserver((records) => {
      let any = false
      for (const r of records) {
        const key = (r.target as HTMLElement).dataset.key
        if (r.isIntersecting && key && !seen.has(key)) {
          seen.add(key)
          any = true
        }
      }
      if (any) app.invalidate()
    })
    for (const el of document.querySelectorAll<HTMLElement>('[data-testid=activity-entry]')) if (!seen.has(el.dataset.key ?? '')) observer.observe(el)
  })
}
