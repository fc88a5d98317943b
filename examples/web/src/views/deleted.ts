/**
 * A folder or request deleted (on another device, or by a teammate) while it is open here: the editor stays,
 * with what was typed, under a banner that says who deleted it and from which device, until the person chooses
 * Restore (it comes back, with its folder, on every device) or Keep deleted (it stays in the trash).
 */
import type { Alternative, CollectionModel, Conflict, Writer } from '@apisync/model'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { button } from './ui.js'

/** "you, on Laptop", "Ann, on Desktop", "someone". */
export function whoWrote(app: App, w: Writer | Alternative | undefined): string {
  const by = w?.by
  // Names as the keyring verified them (a manifest row's name is whatever its writer put there).
  const members = new Map(app.view?.ring.members.map((m) => [m.accountId, m.name]) ?? [])
  const name = !by ? 'someone' : by === app.account?.id ? 'you' : (members.get(by) ?? by.slice(0, 8))
  return w?.device ? `${name}, on ${w.device}` : name
}

/** Whether a writer is this device (this account, this device name). */
export const isHere = (app: App, w: Writer | Alternative | undefined): boolean =>
  Boolean(w && w.by === app.account?.id && w.device !== undefined && w.device === app.account?.deviceName)

/** "Login, in Auth › Users": what a conflict is about. */
export const subjectOf = (c: Conflict): string => (c.name !== undefined ? `${c.name || 'Untitled'}${c.where?.length ? `, in ${c.where.join(' › ')}` : ''}` : '')

/** "Login, in Auth — deleted on Desktop by Ann, edited here": a delete conflict, as a sentence. */
export function deleteSentence(app: App, c: Conflict): string {
  const deleted = c.alternatives.find((a) => a.value === 'deleted')
  const others = c.alternatives.filter((a) => a !== deleted)
  const place = (a: Alternative | undefined) => (isHere(app, a) ? 'here' : a?.device ? `on ${a.device}` : '')
  const person = (a: Alternative | undefined) => {
    const w = whoWrote(app, a && { ...a, device: undefined })
    return w === 'you' ? '' : ` by ${w}`
  }
  const parts = others.map((a) => `${a.value === 'restored' ? 'restored' : 'edited'} ${place(a)}${person(a)}`.replace(/\s+/g, ' ').trim())
  const head = subjectOf(c)
  return `${head ? `${head} — ` : ''}deleted ${place(deleted)}${person(deleted)}, ${parts.join(', ')}`.replace(/\s+/g, ' ').trim()
}

/** The banner over the editor of a deleted item. */
export function deletedBanner(app: App, collectionId: string, model: CollectionModel, id: string): HTMLElement {
  const ro = app.view?.readOnly ?? true
  const trash = model.deletedItems().find((d) => d.id === id)
  const conflict = model.conflicts().find((c) => c.kind === 'delete' && c.entityId === id)
  const deleter = trash?.deletedBy
  const text = conflict
    ? deleteSentence(app, conflict)
    : `Deleted ${isHere(app, deleter) ? 'here' : deleter?.device ? `on ${deleter.device}` : ''}${deleter && whoWrote(app, { ...deleter, device: undefined }) !== 'you' ? ` by ${whoWrote(app, { ...deleter, device: undefined })}` : ''}.`
  const restore = () =>
    app.edit(collectionId, (m) => {
      if (conflict) m.resolve(conflict.id, 'restore')
      else m.restore(id)
    })
  const keep = () => {
    if (conflict) app.edit(collectionId, (m) => m.resolve(conflict.id, 'keep-deleted'))
    app.select({ kind: 'welcome' })
  }
  return h(
    'div',
    { class: 'deleted-banner', role: 'status', 'data-testid': 'deleted-banner' },
    h('div', { class: 'deleted-text', 'data-testid': 'deleted-text' }, text.replace(/\s+/g, ' ')),
    h('div', { class: 'deleted-note muted' }, conflict ? 'Your edits are kept. Choose what happens to it:' : 'What you type here is kept with it.'),
    !ro &&
      h(
        'div',
        { class: 'inline-actions' },
        button('Restore', restore, { class: 'small primary', 'data-testid': 'deleted-restore' }),
        button(conflict ? 'Keep it deleted' : 'Close', keep, { class: 'small', 'data-testid': 'deleted-keep' }),
      ),
  )
}
