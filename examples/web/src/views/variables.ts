/**
 * Variables of an environment, the globals, or a collection: the shared value (synced, sealed with the
 * workspace key, shown here in clear) and this device's local value (never synced), secrets masked.
 */
import type { Variable } from '@apisync/model'
import type { App } from '../app.js'
import { h } from '../dom.js'
import { exportEnvironmentFile, exportGlobalsFile } from '../postman.js'
import type { DocRef } from '../workspace-view.js'
import { button, checkbox, empty, field, iconButton, select } from './ui.js'

export function variablesEditor(app: App, doc: DocRef): HTMLElement {
  const view = app.view!
  const handle = view.handle(doc)
  if (!handle || handle.model.kind === 'manifest' || handle.model.kind === 'collection')
    return h('div', { class: 'placeholder' }, doc.kind === 'globals' ? 'Loading globals…' : 'This environment is not here anymore.')
  const model = view.handle(doc)!.model as import('@apisync/model').EnvironmentModel
  const snap = model.snapshot()
  const ro = view.readOnly
  const isGlobals = doc.kind === 'globals'
  return h(
    'div',
    { class: 'editor', key: `vars:${handle.name}`, 'data-testid': 'variables-editor' },
    h('div', { class: 'breadcrumb' }, isGlobals ? 'Workspace' : 'Environment'),
    h(
      'div',
      { class: 'title-row' },
      isGlobals
        ? h('h1', { class: 'title' }, 'Globals')
        : field(snap.name, (name) => app.act(() => renameEnvironment(app, doc, name)), { class: 'title-input', disabled: ro, 'aria-label': 'Environment name', 'data-testid': 'environment-name' }),
      h('span', { class: 'spacer' }),
      button('Export', () => app.act(() => (isGlobals ? exportGlobalsFile(view) : exportEnvironmentFile(view, (doc as { id: string }).id))), { 'data-testid': 'export-variables' }),
    ),
    h(
      'p',
      { class: 'muted small' },
      view.local
        ? 'Scratch pad: values stay in this browser.'
        : 'Shared values sync to everyone in the workspace, encrypted: the relay only stores ciphertext. Local values stay on this device and win over shared ones here.',
    ),
    variablesTable(app, doc, snap.variables, ro),
  )
}

function renameEnvironment(app: App, doc: DocRef, name: string): void {
  const view = app.requireWritable()
  if (doc.kind !== 'environment') return
  view.environments.get(doc.id)?.model.update({ name })
  const entry = view.manifest.snapshot().environments.find((e) => e.docId === doc.id)
  if (entry) view.manifest.updateRow('environments', entry.id, { name })
}

export function variablesTable(app: App, doc: DocRef, variables: readonly Variable[], ro: boolean): HTMLElement {
  const view = app.view!
  const handle = view.handle(doc)!
  const opened = view.opened.get(handle.name)
  const locals = view.locals.get(handle.name)
  const list = view.variableList(doc)!
  const remove = (rowId: string) =>
    app.act(() => {
      app.requireWritable()
      const model = handle.model
      if (model.kind === 'collection') (model as import('@apisync/model').CollectionModel).removeRow(model.id, 'variables', rowId)
      else (model as import('@apisync/model').EnvironmentModel).removeRow('variables', rowId)
    })
  const update = (rowId: string, patch: { key?: string; enabled?: boolean; description?: string }) =>
    app.act(() => {
      app.requireWritable()
      list.update(rowId, patch)
    })
  if (variables.length === 0 && ro) return empty('No variables.')
  return h(
    'table',
    { class: 'rows variables', 'data-testid': 'variables' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { class: 'col-check' }),
        h('th', null, 'Variable'),
        h('th', { class: 'col-type' }, 'Type'),
        h('th', null, 'Shared value ', h('small', { class: 'muted' }, view.local ? '' : '(encrypted)')),
        h('th', null, 'Local value ', h('small', { class: 'muted' }, '(this device)')),
        h('th', { class: 'col-act' }),
      ),
    ),
    h(
      'tbody',
      null,
      variables.map((v) => {
        const secret = v.type === 'secret'
        const shown = !secret || app.ui.revealed.has(v.id)
        const o = opened?.get(v.id)
        const local = locals?.get(v.id)
        const inputType = shown ? 'text' : 'password'
        let shared: HTMLElement
        if (!o) shared = h('span', { class: 'muted' }, '…')
        else if (o.state === 'locked') shared = h('span', { class: 'locked', 'data-testid': 'locked-value', title: 'Encrypted with a key this device does not hold' }, '🔒 locked')
        else if (o.state === 'tampered') shared = h('span', { class: 'tampered', title: 'This ciphertext failed authentication' }, '⚠ altered')
        else
          shared = field(typeof o.value === 'string' ? o.value : JSON.stringify(o.value), (value) => app.act(() => app.setSharedValue(doc, v.id, value)), {
            type: inputType,
            disabled: ro,
            'aria-label': `shared value of ${v.key}`,
            'data-testid': 'shared-value',
          })
        return h(
          'tr',
          { key: v.id, class: [!v.enabled && 'disabled-row'], 'data-testid': 'variable-row', 'data-key': v.key },
          h('td', { class: 'col-check' }, checkbox(v.enabled, (enabled) => update(v.id, { enabled }), { disabled: ro, title: 'Enabled' })),
          h('td', null, field(v.key, (key) => update(v.id, { key }), { disabled: ro, 'aria-label': 'variable name', 'data-testid': 'variable-key' })),
          h(
            'td',
            { class: 'col-type' },
            select(v.type === 'secret' ? 'secret' : v.type === 'default' ? 'default' : v.type, v.type === 'secret' || v.type === 'default' ? ['default', 'secret'] : ['default', 'secret', v.type], (type) => app.act(() => app.setVariableType(doc, v.id, type)), {
              disabled: ro,
              'aria-label': 'type',
            }),
          ),
          h('td', { class: 'value-cell' }, shared, secret && iconButton(shown ? '◉' : '◎', shown ? 'Hide' : 'Show', () => toggle(app, v.id), { class: 'subtle', 'data-testid': 'reveal' })),
          h(
            'td',
            null,
            field(local === undefined ? '' : typeof local === 'string' ? local : JSON.stringify(local), (value) => app.act(() => (value === '' ? locals?.clear(v.id) : locals?.set(v.id, value))), {
              type: inputType,
              placeholder: o?.state === 'open' && !secret ? 'same as shared' : '',
              'aria-label': `local value of ${v.key}`,
              'data-testid': 'local-value',
            }),
          ),
          h('td', { class: 'col-act' }, !ro && iconButton('✕', 'Remove', () => remove(v.id), { class: 'subtle' })),
        )
      }),
      !ro &&
        h(
          'tr',
          { key: `new-${variables.length}`, class: 'new-row' },
          h('td'),
          h('td', null, field('', (key) => key && app.act(() => app.addVariable(doc, { key, value: '' })), { live: false, placeholder: 'Add a variable', 'aria-label': 'new variable', 'data-testid': 'new-variable' })),
          h('td'),
          h('td'),
          h('td'),
          h('td'),
        ),
    ),
  )
}

function toggle(app: App, id: string): void {
  if (app.ui.revealed.has(id)) app.ui.revealed.delete(id)
  else app.ui.revealed.add(id)
  app.invalidate()
}
