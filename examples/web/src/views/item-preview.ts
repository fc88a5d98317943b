/**
 * A folder or request shown read-only from a snapshot (a deleted item's last content, an item as an earlier
 * version had it): nothing here is bound to a live doc, so nothing can be typed into it.
 */
import type { Auth, CollectionSnapshot, ItemSnapshot, KeyValue, RequestSnapshot } from '@apisync/model'
import { type Child, h } from '../dom.js'
import { methodBadge } from './ui.js'

export function itemPreview(item: ItemSnapshot): HTMLElement {
  return h(
    'div',
    { class: 'item-preview', 'data-testid': 'item-preview', 'data-kind': item.kind, 'data-name': item.name },
    item.kind === 'request' ? requestPreview(item) : [h('h4', null, '▸ ', item.name || 'Untitled folder'), contents(item.items), item.description && block('Description', item.description)],
  )
}

/** A collection as a version had it: its name and its tree. */
export function collectionPreview(c: CollectionSnapshot): HTMLElement {
  return h('div', { class: 'item-preview', 'data-testid': 'item-preview', 'data-kind': 'collection', 'data-name': c.name }, h('h4', null, '▤ ', c.name || 'Untitled collection'), contents(c.items), c.description && block('Description', c.description))
}

function requestPreview(r: RequestSnapshot): Child[] {
  const body = r.body.mode === 'raw' ? r.body.raw : r.body.mode === 'urlencoded' ? rows(r.body.urlencoded) : r.body.mode === 'formdata' ? rows(r.body.formdata) : r.body.mode === 'graphql' ? r.body.graphql.query : ''
  return [
    h('h4', null, methodBadge(r.method), ' ', r.name || 'Untitled request'),
    h('div', { class: 'preview-url', 'data-testid': 'preview-url' }, r.url.raw || '(no URL)'),
    r.headers.length > 0 && block('Headers', rows(r.headers)),
    r.body.mode && r.body.mode !== 'none' && block(`Body (${r.body.mode})`, body),
    authLine(r.auth),
    r.scripts.prerequest && block('Pre-request script', r.scripts.prerequest),
    r.scripts.test && block('Tests', r.scripts.test),
    r.description && block('Description', r.description),
    r.responses.length > 0 && h('p', { class: 'muted small' }, `${r.responses.length} saved example${r.responses.length === 1 ? '' : 's'}: ${r.responses.map((x) => x.name).join(', ')}`),
  ]
}

const rows = (list: readonly Pick<KeyValue, 'key' | 'value' | 'enabled'>[]): string => list.map((x) => `${x.enabled === false ? '// ' : ''}${x.key}: ${x.value}`).join('\n')

const block = (title: string, text: string): HTMLElement => h('div', { class: 'preview-block' }, h('div', { class: 'muted small' }, title), h('pre', null, text))

const authLine = (auth: Auth): HTMLElement | null => (auth && auth.type ? h('p', { class: 'muted small' }, `Auth: ${String(auth.type)}`) : null)

/** A folder's contents as an indented list (folders first as they are ordered, requests with their method). */
function contents(items: readonly ItemSnapshot[]): HTMLElement {
  if (items.length === 0) return h('p', { class: 'muted small' }, 'Empty folder.')
  return h(
    'ul',
    { class: 'preview-tree' },
    items.map((i) =>
      h(
        'li',
        { key: i.id, 'data-testid': 'preview-item', 'data-name': i.name },
        i.kind === 'request' ? [methodBadge(i.method), ' ', i.name, h('span', { class: 'muted small' }, ` ${i.url.raw}`)] : ['▸ ', i.name, contents(i.items)],
      ),
    ),
  )
}
