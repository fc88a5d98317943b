/**
 * Descriptions are Markdown (as in Postman): shown rendered, edited as text. Rendering is markdown-it with
 * raw HTML off (so a description from someone else cannot inject markup or script; markdown-it also refuses
 * javascript: and similar links), links opening in a new tab.
 */
import type { CollectionModel } from '@apisync/model'
import MarkdownIt from 'markdown-it'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { textEditor } from './request.js'
import { button } from './ui.js'

const md = new MarkdownIt({ html: false, linkify: true })
const defaultLink = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options))
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]!.attrSet('target', '_blank')
  tokens[idx]!.attrSet('rel', 'noopener noreferrer')
  return defaultLink(tokens, idx, options, env, self)
}

/** Rendered HTML per source text (descriptions rarely change; renders are frequent). */
const cache = new Map<string, string>()
export const renderMarkdown = (text: string): string => {
  let html = cache.get(text)
  if (html === undefined) {
    html = md.render(text)
    if (cache.size > 200) cache.clear()
    cache.set(text, html)
  }
  return html
}

/** A description: rendered, with Edit (the Y.Text editor: characters merge with others' typing) and Done. */
export function description(app: App, collectionId: string, model: CollectionModel, ownerId: string, ro: boolean, rows = '10', placeholder = 'Markdown welcome'): HTMLElement {
  const text = model.text(ownerId, 'description').toString()
  const editing = app.ui.editingDescription === ownerId && !ro
  const toggle = (on: boolean) => () => {
    app.ui.editingDescription = on ? ownerId : null
    app.invalidate()
  }
  return h(
    'div',
    { class: 'description', key: `description:${ownerId}`, 'data-testid': 'description' },
    h(
      'div',
      { class: 'description-head' },
      h('h3', null, 'Description'),
      !ro && button(editing ? 'Done' : 'Edit', toggle(!editing), { class: 'small', 'data-testid': editing ? 'description-done' : 'description-edit' }),
    ),
    editing
      ? textEditor(app, collectionId, model, ownerId, 'description', ro, { rows, placeholder, 'data-testid': 'description-text' })
      : text.trim() === ''
        ? h('p', { class: 'muted' }, ro ? 'No description.' : 'No description yet.')
        : h('div', { class: 'markdown', 'data-testid': 'description-rendered', html: renderMarkdown(text) }),
  )
}
