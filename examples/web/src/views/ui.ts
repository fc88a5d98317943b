/** Small building blocks shared by the views: buttons, fields that write as you type, tabs, row tables. */
import type { KeyValue } from '@apisync/model'
import { type Child, type Props, h } from '../dom.js'

export const button = (label: Child, onclick: (e: MouseEvent) => void, props: Props = {}): HTMLElement =>
  h('button', { type: 'button', ...props, class: ['btn', ...(Array.isArray(props.class) ? props.class : [props.class])], onclick }, label)

export const iconButton = (icon: string, title: string, onclick: (e: MouseEvent) => void, props: Props = {}): HTMLElement =>
  h('button', { type: 'button', title, 'aria-label': title, ...props, class: ['icon-btn', props.class as string], onclick }, icon)

/** The value each field had when it got the focus (Escape puts it back). */
const atFocus = new WeakMap<HTMLInputElement, string>()

/**
 * A one-line field that writes as the person types: every keystroke is stored at once (a tab closed or
 * crashed mid-typing loses nothing), and keystrokes in one field count as one pending action (the client
 * groups them; leaving the field ends the action). Escape puts back the value it had when it got the focus.
 * `live: false` writes once, when the person is done (Enter, Tab, leaving): for fields that create
 * something (a new row), which must not be created at the first keystroke.
 */
export const field = (value: string, commit: (value: string) => void, props: Props & { readonly live?: boolean } = {}): HTMLElement => {
  const { live = true, ...rest } = props
  return h('input', {
    type: 'text',
    spellcheck: 'false',
    ...rest,
    value,
    onfocus: (e: FocusEvent) => atFocus.set(e.target as HTMLInputElement, (e.target as HTMLInputElement).value),
    ...(live
      ? { oninput: (e: Event) => commit((e.target as HTMLInputElement).value) }
      : {
          onchange: (e: Event) => {
            const v = (e.target as HTMLInputElement).value
            if (v !== value) commit(v)
          },
        }),
    onkeydown: (e: KeyboardEvent) => {
      const input = e.target as HTMLInputElement
      if (e.key === 'Enter') input.blur()
      if (e.key === 'Escape') {
        const before = atFocus.get(input) ?? value
        if (input.value !== before) {
          input.value = before
          if (live) commit(before)
        }
        input.blur()
      }
    },
  })
}

export const checkbox = (checked: boolean, commit: (checked: boolean) => void, props: Props = {}): HTMLElement =>
  h('input', { type: 'checkbox', ...props, checked, onchange: (e: Event) => commit((e.target as HTMLInputElement).checked) })

export const select = (value: string, options: readonly (string | { value: string; label: string })[], commit: (v: string) => void, props: Props = {}): HTMLElement =>
  h(
    'select',
    { ...props, value, onchange: (e: Event) => commit((e.target as HTMLSelectElement).value) },
    options.map((o) => (typeof o === 'string' ? h('option', { value: o }, o) : h('option', { value: o.value }, o.label))),
  )

export const tabs = <T extends string>(current: T, list: readonly { id: T; label: Child }[], choose: (id: T) => void): HTMLElement =>
  h(
    'div',
    { class: 'tabs', role: 'tablist' },
    list.map((t) =>
      h('button', { type: 'button', role: 'tab', 'aria-selected': t.id === current ? 'true' : 'false', class: ['tab', t.id === current && 'active'], onclick: () => choose(t.id) }, t.label),
    ),
  )

export const badge = (text: Child, kind = ''): HTMLElement => h('span', { class: ['badge', kind && `badge-${kind}`] }, text)

export const empty = (text: Child): HTMLElement => h('div', { class: 'empty' }, text)

export const METHOD_CLASS: Record<string, string> = { GET: 'get', POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'delete', HEAD: 'head', OPTIONS: 'options' }
export const methodBadge = (method: string): HTMLElement => h('span', { class: ['method', `method-${METHOD_CLASS[method] ?? 'other'}`] }, method.length > 6 ? method.slice(0, 5) + '…' : method)

export interface RowsEditor<R extends { id: string }> {
  readonly rows: readonly R[]
  readonly readOnly: boolean
  readonly testid: string
  readonly enabled?: boolean
  readonly description?: boolean
  readonly keyLabel?: string
  readonly valueLabel?: string
  readonly onUpdate: (rowId: string, patch: Partial<KeyValue>) => void
  readonly onRemove: (rowId: string) => void
  readonly onAdd: (row: { key: string; value: string }) => void
  /** Replaces the value cell (e.g. form file parts). */
  readonly valueCell?: (row: R) => HTMLElement | null
}

/** A table of key/value rows with an empty last row to add one. */
export function rowsTable<R extends { id: string; key: string; value: string; enabled?: boolean; description?: string }>(o: RowsEditor<R>): HTMLElement {
  const withEnabled = o.enabled !== false
  const withDescription = o.description !== false
  const dis = { disabled: o.readOnly }
  return h(
    'table',
    { class: 'rows', 'data-testid': o.testid },
    h(
      'thead',
      null,
      h('tr', null, withEnabled && h('th', { class: 'col-check' }), h('th', null, o.keyLabel ?? 'Key'), h('th', null, o.valueLabel ?? 'Value'), withDescription && h('th', null, 'Description'), h('th', { class: 'col-act' })),
    ),
    h(
      'tbody',
      null,
      o.rows.map((r) =>
        h(
          'tr',
          { key: r.id, class: [r.enabled === false && 'disabled-row'] },
          withEnabled && h('td', { class: 'col-check' }, checkbox(r.enabled !== false, (v) => o.onUpdate(r.id, { enabled: v }), { ...dis, title: 'Enabled' })),
          h('td', null, field(r.key, (v) => o.onUpdate(r.id, { key: v }), { ...dis, placeholder: 'key', 'aria-label': 'key' })),
          h('td', null, o.valueCell?.(r) ?? field(r.value, (v) => o.onUpdate(r.id, { value: v }), { ...dis, placeholder: 'value', 'aria-label': 'value' })),
          withDescription && h('td', null, field(r.description ?? '', (v) => o.onUpdate(r.id, { description: v }), { ...dis, placeholder: 'description' })),
          h('td', { class: 'col-act' }, !o.readOnly && iconButton('✕', 'Remove', () => o.onRemove(r.id), { class: 'subtle' })),
        ),
      ),
      !o.readOnly &&
        h(
          'tr',
          { key: `new-${o.rows.length}`, class: 'new-row' },
          withEnabled && h('td', { class: 'col-check' }),
          h('td', null, field('', (v) => v && o.onAdd({ key: v, value: '' }), { live: false, placeholder: 'Add a key', 'aria-label': 'new key' })),
          h('td', null, field('', (v) => v && o.onAdd({ key: '', value: v }), { live: false, placeholder: 'value', 'aria-label': 'new value' })),
          withDescription && h('td', null),
          h('td', { class: 'col-act' }),
        ),
    ),
  )
}

export const relativeTime = (ms: number | undefined): string => {
  if (!ms) return '—'
  const s = Math.round((Date.now() - ms) / 1000)
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return new Date(ms).toLocaleString()
}

// One formatter for every call: toLocaleTimeString builds a new one each time (a millisecond or so apiece).
const CLOCK = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
export const clock = (ms: number): string => CLOCK.format(ms)
