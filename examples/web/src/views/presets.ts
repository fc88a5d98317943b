/** Header presets: named sets of headers, kept in the workspace manifest, added to a request in one click. */
import type { App } from '../app.js'
import { h } from '../dom.js'
import { button, empty, field, iconButton, rowsTable } from './ui.js'

export function presetsEditor(app: App): HTMLElement {
  const view = app.view!
  const m = view.manifest
  const presets = m.snapshot().headerPresets
  const ro = view.readOnly
  const edit = (fn: () => void) =>
    app.act(() => {
      app.requireWritable()
      fn()
    })
  return h(
    'div',
    { class: 'editor', key: 'presets', 'data-testid': 'presets-editor' },
    h('div', { class: 'breadcrumb' }, 'Workspace'),
    h('div', { class: 'title-row' }, h('h1', { class: 'title' }, 'Header presets')),
    h('p', { class: 'muted' }, 'Sets of headers you add to requests often (auth, content types, tracing). Open a request’s Headers tab to apply one.'),
    presets.length === 0 && empty('No presets yet.'),
    presets.map((p) =>
      h(
        'div',
        { key: p.id, class: 'card', 'data-testid': 'preset', 'data-name': p.name },
        h(
          'div',
          { class: 'card-head' },
          field(p.name, (name) => edit(() => m.updateRow('headerPresets', p.id, { name })), { disabled: ro, class: 'grow strong', 'aria-label': 'Preset name' }),
          !ro && iconButton('✕', 'Delete preset', () => edit(() => m.removeRow('headerPresets', p.id)), { class: 'subtle' }),
        ),
        rowsTable({
          rows: p.headers,
          readOnly: ro,
          testid: 'preset-headers',
          description: false,
          onUpdate: (row, patch) => edit(() => m.updateRow(`headerPresets/${p.id}/headers`, row, patch)),
          onRemove: (row) => edit(() => m.removeRow(`headerPresets/${p.id}/headers`, row)),
          onAdd: (row) => edit(() => m.addRow(`headerPresets/${p.id}/headers`, row)),
        }),
      ),
    ),
    !ro &&
      button(
        '+ New preset',
        () =>
          app.openDialog({
            title: 'New header preset',
            fields: [{ name: 'name', label: 'Name', placeholder: 'JSON API' }],
            submit: 'Create',
            onSubmit: (v) => {
              app.requireWritable()
              m.addRow('headerPresets', { name: v.name?.trim() || 'Preset' })
            },
          }),
        { 'data-testid': 'new-preset' },
      ),
  )
}
