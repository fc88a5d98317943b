/**
 * `{{variables}}` shown in place in a field: the field (whatever input or textarea the editor made) sits on a
 * layer that repeats its text with each reference marked: resolved, unresolved (red, underlined) or locked
 * (this device cannot open its value). Hovering a reference shows its value (secrets masked) and where it
 * comes from. The layer follows what is being typed before it is committed, and the field's scroll.
 */
import { h } from '../dom.js'
import type { VariableContext } from '../variables-in-use.js'

/** Text being typed (not yet committed) per field, so a re-render does not show the committed text meanwhile. */
const typing = new Map<string, string>()

export type VarState = 'resolved' | 'missing' | 'locked'

export const stateOf = (vars: VariableContext, name: string): VarState => (vars.resolved.has(name) ? 'resolved' : vars.locked.has(name) ? 'locked' : 'missing')

function tokens(text: string, vars: VariableContext): (string | HTMLElement)[] {
  const out: (string | HTMLElement)[] = []
  let last = 0
  for (const m of text.matchAll(/\{\{([^{}]+)\}\}/g)) {
    if (m.index > last) out.push(text.slice(last, m.index))
    const name = m[1]!
    const state = stateOf(vars, name)
    out.push(h('span', { class: ['var-token', `var-${state}`], 'data-var': name, 'data-state': state, 'data-testid': 'var-token' }, m[0]))
    last = m.index + m[0].length
  }
  if (last < text.length) out.push(text.slice(last))
  // A textarea's last line break has a height: so does the layer's.
  out.push('\u200b')
  return out
}

/** Wraps `control` (an input or textarea showing `text`) with the variables layer. `key` names the field. */
export function withVariables(control: HTMLElement, text: string, vars: VariableContext, key: string): HTMLElement {
  const shown = typing.get(key) ?? text
  const repaint = (wrapper: HTMLElement, value: string) => {
    const overlay = wrapper.firstElementChild as HTMLElement | null
    if (!overlay) return
    overlay.replaceChildren(...tokens(value, vars))
    scheduleSync()
  }
  scheduleSync()
  return h(
    'div',
    {
      class: ['var-field', control.tagName === 'TEXTAREA' && 'multiline'],
      key: `vars:${key}`,
      oninput: (e: Event) => {
        const t = e.target as HTMLInputElement
        typing.set(key, t.value)
        repaint(e.currentTarget as HTMLElement, t.value)
      },
      onfocusout: () => typing.delete(key),
      onmousemove: (e: MouseEvent) => hover(e, vars),
      onmouseleave: hideTooltip,
    },
    h('div', { class: 'var-overlay', 'aria-hidden': 'true' }, tokens(shown, vars)),
    control,
  )
}

// ------------------------------------------------------------------------------------------------ layout

let syncScheduled = false
const listening = new WeakSet<Element>()

function scheduleSync(): void {
  if (syncScheduled) return
  syncScheduled = true
  requestAnimationFrame(() => {
    syncScheduled = false
    for (const wrapper of document.querySelectorAll<HTMLElement>('.var-field')) syncLayer(wrapper)
    // The field it was shown for may be gone (another page opened under the pointer).
    if (tooltip && !tooltip.hidden && !document.querySelector('.var-field:hover')) hideTooltip()
  })
}

const COPIED = ['fontFamily', 'fontSize', 'fontWeight', 'fontStyle', 'letterSpacing', 'lineHeight', 'textAlign', 'paddingTop', 'paddingRight', 'paddingBottom', 'paddingLeft', 'borderTopWidth', 'borderRightWidth', 'borderBottomWidth', 'borderLeftWidth', 'tabSize'] as const

/** The layer takes the field's metrics, so each character sits under its twin. */
function syncLayer(wrapper: HTMLElement): void {
  const overlay = wrapper.firstElementChild as HTMLElement | null
  const control = wrapper.lastElementChild as HTMLInputElement | HTMLTextAreaElement | null
  if (!overlay || !control || overlay === control) return
  const cs = getComputedStyle(control)
  const style = overlay.style as unknown as Record<string, string>
  for (const p of COPIED) style[p] = (cs as unknown as Record<string, string>)[p] ?? ''
  overlay.style.width = `${control.offsetWidth}px`
  overlay.style.height = `${control.offsetHeight}px`
  overlay.style.left = `${control.offsetLeft}px`
  overlay.style.top = `${control.offsetTop}px`
  overlay.scrollLeft = control.scrollLeft
  overlay.scrollTop = control.scrollTop
  if (!listening.has(control)) {
    listening.add(control)
    // A textarea resized by hand moves its text: the layer follows.
    new ResizeObserver(scheduleSync).observe(control)
    control.addEventListener('scroll', () => {
      const layer = control.parentElement?.firstElementChild as HTMLElement | null
      if (layer && layer !== control) {
        layer.scrollLeft = control.scrollLeft
        layer.scrollTop = control.scrollTop
      }
    })
  }
}

window.addEventListener('resize', scheduleSync)

// ------------------------------------------------------------------------------------------------ hover

let tooltip: HTMLElement | null = null
let tooltipFor: string | null = null

function hideTooltip(): void {
  tooltipFor = null
  if (tooltip) tooltip.hidden = true
}

function hover(e: MouseEvent, vars: VariableContext): void {
  const wrapper = e.currentTarget as HTMLElement
  const hit = [...wrapper.querySelectorAll<HTMLElement>('.var-token')].find((span) => {
    for (const r of span.getClientRects()) if (e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom) return true
    return false
  })
  if (!hit) return hideTooltip()
  const name = hit.dataset.var ?? ''
  const rect = hit.getBoundingClientRect()
  const id = `${name}@${Math.round(rect.left)},${Math.round(rect.top)}`
  if (tooltipFor === id && tooltip && !tooltip.hidden) return
  tooltipFor = id
  tooltip ??= document.body.appendChild(h('div', { class: 'var-tooltip', role: 'tooltip', 'data-testid': 'var-tooltip' }))
  tooltip.replaceChildren(...describe(name, vars))
  tooltip.dataset.var = name
  tooltip.dataset.state = stateOf(vars, name)
  tooltip.hidden = false
  tooltip.style.left = `${Math.max(4, Math.min(rect.left, window.innerWidth - 320))}px`
  tooltip.style.top = `${rect.bottom + 6}px`
}

function describe(name: string, vars: VariableContext): HTMLElement[] {
  const title = h('div', { class: 'var-tooltip-name' }, `{{${name}}}`)
  const info = vars.info(name)
  if (info) {
    const value = info.secret ? '••••••' : typeof info.value === 'string' ? info.value : JSON.stringify(info.value)
    return [
      title,
      h('div', { class: 'var-tooltip-value', 'data-testid': 'var-tooltip-value' }, value === '' ? h('em', null, 'empty') : value),
      h('div', { class: 'var-tooltip-scope muted', 'data-testid': 'var-tooltip-scope' }, `${info.source}${info.scope === 'overrides' ? '' : info.local ? ' · local value (this device)' : ' · shared value'}${info.secret ? ' · secret' : ''}`),
    ]
  }
  if (vars.locked.has(name)) return [title, h('div', { class: 'var-tooltip-scope' }, 'Locked: its value is encrypted with a key this device does not hold yet (Keys & recovery).')]
  return [
    title,
    h(
      'div',
      { class: 'var-tooltip-scope', 'data-testid': 'var-tooltip-scope' },
      vars.environmentName ? `Unresolved: no variable ${name} in “${vars.environmentName}”, the collection or globals.` : `Unresolved: not in the collection or globals, and no environment is selected.`,
    ),
  ]
}
