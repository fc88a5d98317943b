/**
 * A collection's Trash: the folders and requests deleted in the last 30 days, newest first, each with who
 * deleted it, from which device, when, and where it was. What one deletion took along (the requests of a
 * deleted folder) is listed under it. Open shows its last content, read-only; Restore puts it back where it
 * was, recreating the folders above it if they were deleted too (`CollectionModel.restore`): an edit like any
 * other, on every device.
 */
import type { CollectionModel, DeletedItem } from '@apisync/model'
import { TRASH_DAYS, type TrashEntry, trashEntries } from '../trash-entries.js'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { isHere, whoWrote } from './deleted.js'
import { itemPreview } from './item-preview.js'
import { button, empty, relativeTime } from './ui.js'

const place = (d: DeletedItem) => (d.where.length ? `in ${d.where.join(' › ')}` : 'at the top level')

/** "by Ann, on Desktop", "here", "on Phone". */
export function deletedBySentence(app: App, d: DeletedItem): string {
  if (isHere(app, d.deletedBy)) return 'here'
  const who = whoWrote(app, d.deletedBy)
  return who.startsWith('you') ? who.replace(/^you, /, '').replace(/^you$/, 'by you') : `by ${who}`
}

export function trashView(app: App, collectionId: string, openId: string | undefined): HTMLElement {
  const model = app.collection(collectionId)
  if (!model) return h('div', { class: 'placeholder' }, h('p', { class: 'muted' }, 'This collection is not here anymore.'))
  const name = model.snapshot().name || 'Collection'
  const entries = trashEntries(model.deletedItems(), Date.now())
  const ro = app.view?.readOnly ?? true
  const opened = openId ? model.getDeleted(openId) : undefined
  return h(
    'div',
    { class: 'editor trash', key: `trash:${collectionId}`, 'data-testid': 'trash' },
    h('div', { class: 'breadcrumb' }, h('a', { onclick: () => app.select({ kind: 'collection', collectionId }) }, name), ' › Trash'),
    h('div', { class: 'title-row' }, h('h2', null, `Trash of ${name}`), h('span', { class: 'spacer' }), button('History', () => app.select({ kind: 'history', collectionId }), { 'data-testid': 'open-history' })),
    h('p', { class: 'muted' }, `Folders and requests deleted in the last ${TRASH_DAYS} days. Restore puts one back where it was, with its folder if that was deleted too, on every device.`),
    entries.length === 0
      ? empty('Nothing was deleted here lately.')
      : h(
          'ul',
          { class: 'trash-list', 'data-testid': 'trash-list' },
          entries.map((e) => trashRow(app, collectionId, model, e, ro, openId === e.item.id)),
        ),
    opened &&
      h(
        'section',
        { class: 'trash-open', 'data-testid': 'trash-open' },
        h('div', { class: 'title-row' }, h('h3', null, `Last content of “${opened.name || 'Untitled'}” (read only)`), h('span', { class: 'spacer' }), !ro && button('Restore', () => restore(app, collectionId, openId!), { class: 'small primary', 'data-testid': 'trash-open-restore' })),
        itemPreview(opened),
      ),
  )
}

function trashRow(app: App, collectionId: string, model: CollectionModel, e: TrashEntry, ro: boolean, open: boolean): HTMLElement {
  const d = e.item
  const requests = e.along.filter((x) => x.kind === 'request').length
  const folders = e.along.length - requests
  const took = [requests && `${requests} request${requests === 1 ? '' : 's'}`, folders && `${folders} folder${folders === 1 ? '' : 's'}`].filter(Boolean).join(' and ')
  const method = d.kind === 'request' ? model.getDeleted(d.id) : undefined
  return h(
    'li',
    { key: d.id, class: ['trash-item', open && 'selected'], 'data-testid': 'trash-item', 'data-name': d.name, 'data-kind': d.kind, 'data-id': d.id },
    h(
      'div',
      { class: 'trash-main' },
      h('span', { class: 'icon' }, d.kind === 'folder' ? '▸' : method?.kind === 'request' ? method.method : '•'),
      h('strong', { class: 'trash-name' }, d.name || (d.kind === 'folder' ? 'Untitled folder' : 'Untitled request')),
      took && h('span', { class: 'muted small', 'data-testid': 'trash-along' }, ` with ${took}`),
      h('div', { class: 'muted small', 'data-testid': 'trash-meta' }, `Deleted ${deletedBySentence(app, d)} · ${relativeTime(d.deletedBy.at)} · was ${place(d)}`),
      e.along.length > 0 && h('div', { class: 'muted small trash-names' }, e.along.map((x) => x.name).join(', ')),
    ),
    h(
      'div',
      { class: 'inline-actions' },
      button(open ? 'Close' : 'Open', () => app.select({ kind: 'trash', collectionId, ...(open ? {} : { id: d.id }) }), { class: 'small', 'data-testid': 'trash-open-item' }),
      !ro && button('Restore', () => restore(app, collectionId, d.id), { class: 'small primary', 'data-testid': 'trash-restore' }),
    ),
  )
}

/** Restores an item and shows it where it is back (its folders expanded). */
function restore(app: App, collectionId: string, id: string): void {
  app.edit(collectionId, (m) => {
    const name = m.getDeleted(id)?.name ?? ''
    m.restore(id)
    const item = m.get(id)
    app.ui.expanded.add(collectionId)
    for (let p = m.parentId(id); p; p = m.parentId(p)) app.ui.expanded.add(p)
    app.toast(`Restored “${name || 'Untitled'}”${item ? ' where it was' : ''}`)
    if (app.selection.kind === 'trash' && app.selection.id === id) app.select({ kind: 'trash', collectionId })
  })
}
