/** The active environment of this device (a local choice: it does not sync), as a select. */
import type { App } from '../app.js'
import { h } from '../dom.js'
import { activeEnvironment, setActiveEnvironment } from '../variables-in-use.js'
import { select } from './ui.js'

export function envPicker(app: App): HTMLElement {
  const view = app.view!
  const current = activeEnvironment(app) ?? ''
  const envs = view.manifest.snapshot().environments.map((e) => ({ value: e.docId, label: view.environments.get(e.docId)?.model.snapshot().name || e.name || 'Untitled environment' }))
  return h(
    'label',
    { class: 'env-picker', title: 'The environment whose variables fill in {{variables}} on this device (not synced)' },
    h('span', { class: 'muted small' }, 'Environment'),
    select(current, [{ value: '', label: 'No environment' }, ...envs], (id) => setActiveEnvironment(app, id || null), { 'data-testid': 'env-picker', 'aria-label': 'Active environment' }),
  )
}
