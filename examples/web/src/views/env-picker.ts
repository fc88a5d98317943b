/**
 * The active environment of this device (a local choice: it does not sync), as a select in the top bar, as in
 * Postman: one choice per device and workspace, used by Send, Run and the {{variables}} shown in place.
 */
import type { App } from '../app.js'
import { h } from '../dom.js'
import { activeEnvironment, setActiveEnvironment } from '../variables-in-use.js'
import { select } from './ui.js'

const nameOf = (app: App, docId: string, fallback: string): string => app.view?.environments.get(docId)?.model.snapshot().name || fallback || 'Untitled environment'

export function envPicker(app: App): HTMLElement {
  const view = app.view!
  const current = activeEnvironment(app) ?? ''
  const envs = view.manifest.snapshot().environments.map((e) => ({ value: e.docId, label: nameOf(app, e.docId, e.name) }))
  return h(
    'label',
    { class: 'env-picker', title: 'The environment whose variables fill in {{variables}} on this device (not synced)' },
    h('span', { class: 'small' }, 'Environment'),
    select(current, [{ value: '', label: 'No environment' }, ...envs], (id) => setActiveEnvironment(app, id || null), { 'data-testid': 'env-picker', 'aria-label': 'Active environment' }),
  )
}

/** The name of this device's active environment, or null when none is chosen. */
export function activeEnvironmentName(app: App): string | null {
  const id = activeEnvironment(app)
  if (!id) return null
  return `“${nameOf(app, id, app.view?.manifest.snapshot().environments.find((e) => e.docId === id)?.name ?? '')}”`
}
