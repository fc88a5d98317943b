/** The middle pane: whatever is selected. */
import type { App } from '../app.js'
import { h } from '../dom.js'
import { accountPage } from './account.js'
import { collectionEditor, folderEditor } from './collection.js'
import { membersPage } from './members.js'
import { deletedBanner } from './deleted.js'
import { presetsEditor } from './presets.js'
import { requestEditor } from './request.js'
import { runsView } from './runs.js'
import { trashView } from './trash.js'
import { historyView } from './history.js'
import { activityView } from './activity.js'
import { button } from './ui.js'
import { variablesEditor } from './variables.js'

export function mainPane(app: App): HTMLElement {
  let body: HTMLElement
  try {
    body = content(app)
  } catch (e) {
    // A doc that is still arriving (or malformed) must not take the whole app down.
    console.error(e)
    body = h('div', { class: 'placeholder' }, h('h2', null, 'This cannot be shown right now'), h('p', { class: 'muted' }, e instanceof Error ? e.message : String(e)))
  }
  return h('main', { class: 'main', 'data-testid': 'main' }, body)
}

function content(app: App): HTMLElement {
  const view = app.view!
  const sel = app.selection
  switch (sel.kind) {
    case 'request': {
      const model = view.collections.get(sel.collectionId)?.model
      if (model && model.id !== sel.collectionId) return loading()
      const item = model?.get(sel.id)
      if (item?.kind === 'request') return requestEditor(app, sel.collectionId, item)
      // Deleted while open here: the editor stays, with what was typed, until the person chooses.
      const deleted = model?.getDeleted(sel.id)
      return deleted?.kind === 'request' ? stillOpen(deletedBanner(app, sel.collectionId, model!, sel.id), requestEditor(app, sel.collectionId, deleted)) : gone(app)
    }
    case 'folder': {
      const model = view.collections.get(sel.collectionId)?.model
      if (model && model.id !== sel.collectionId) return loading()
      const item = model?.get(sel.id)
      if (item?.kind === 'folder') return folderEditor(app, sel.collectionId, item)
      const deleted = model?.getDeleted(sel.id)
      return deleted?.kind === 'folder' ? stillOpen(deletedBanner(app, sel.collectionId, model!, sel.id), folderEditor(app, sel.collectionId, deleted)) : gone(app)
    }
    case 'collection': {
      const model = view.collections.get(sel.collectionId)?.model
      if (!model) return gone(app)
      // A collection that has not arrived from the relay yet has no id.
      return model.id === sel.collectionId ? collectionEditor(app, sel.collectionId) : loading()
    }
    case 'runs':
      return runsView(app, sel.collectionId)
    case 'trash':
      return trashView(app, sel.collectionId, sel.id)
    case 'history':
      return historyView(app, sel.collectionId, sel.id)
    case 'activity':
      return activityView(app)
    case 'environment':
      return variablesEditor(app, { kind: 'environment', id: sel.id })
    case 'globals':
      return variablesEditor(app, { kind: 'globals' })
    case 'presets':
      return presetsEditor(app)
    case 'sessions':
    case 'keys':
      return accountPage(app, sel.kind)
    case 'members':
      return membersPage(app)
    case 'welcome':
      return welcome(app)
  }
}

const stillOpen = (banner: HTMLElement, editor: HTMLElement) => h('div', { class: 'deleted-view', 'data-testid': 'deleted-view' }, banner, editor)

const loading = () => h('div', { class: 'placeholder' }, h('p', { class: 'muted' }, 'Loading from the relay…'))

function gone(app: App): HTMLElement {
  return h(
    'div',
    { class: 'placeholder' },
    h('h2', null, 'Not here anymore'),
    h('p', { class: 'muted' }, 'It was deleted or moved away (perhaps on another device).'),
    button('Back', () => app.select({ kind: 'welcome' })),
  )
}

function welcome(app: App): HTMLElement {
  const view = app.view!
  const m = view.manifest.snapshot()
  return h(
    'div',
    { class: 'placeholder welcome' },
    h('h1', null, view.local ? 'Scratch pad' : m.name || 'Your workspace'),
    h(
      'p',
      { class: 'lead' },
      view.readOnly
        ? 'You can follow this workspace live; only its owner and editors change it.'
        : 'Pick a request on the left, or create a collection. Everything you do is saved in this browser first and synced when the relay is reachable.',
    ),
    h(
      'ul',
      { class: 'tips' },
      h('li', null, h('strong', null, 'Offline: '), 'stop the relay and keep working; the indicator shows what is pending.'),
      h('li', null, h('strong', null, 'Two devices: '), 'sign in with the same name in another browser; edit the same URL on both while offline to see a conflict.'),
      h('li', null, h('strong', null, 'Teammates: '), 'share the workspace id; a viewer follows along without editing.'),
      h('li', null, h('strong', null, 'Postman: '), 'import collections, environments, globals and newman reports; export them back unchanged.'),
    ),
  )
}
