/**
 * A tiny view layer: `h()` builds real DOM nodes, `patch()` morphs the live tree into a freshly built one.
 * Views are plain functions of the app state, rebuilt on every change; patching keeps the nodes that stay, so
 * focus, caret and scroll survive. Two rules make editing work while others edit:
 * - a focused input keeps what the person is typing (its value is only updated once it loses focus);
 * - a textarea bound to a Y.Text (`ytext`) sends each keystroke as a character edit and takes remote edits in
 *   place, keeping the caret where it was relative to the text around it.
 */
import * as Y from 'yjs'

export type Child = Node | string | number | null | undefined | false | readonly Child[]

/** Edits of a Y.Text bound textarea: what a keystroke did, as a splice. */
export type TextEdit = (index: number, deleteCount: number, insert: string) => void

export interface Props {
  readonly key?: string
  /** Trusted (sanitised) HTML for the element's content, instead of children (see views/markdown.ts). */
  readonly html?: string
  readonly class?: string | readonly (string | false | null | undefined)[]
  readonly style?: string
  readonly ytext?: Y.Text
  readonly onedit?: TextEdit
  readonly [name: string]: unknown
}

/** Properties set as DOM properties (not attributes), so that patching can compare and copy them. */
const PROPERTIES = new Set(['value', 'defaultValue', 'checked', 'disabled', 'readOnly', 'selected', 'indeterminate', 'open'])

interface Meta {
  props: Props
  key: string | undefined
  /** Built by memo(): its key there. */
  memo?: string
  /** A memo() stand-in: the live element it stands for is unchanged. */
  same?: Element
}
const meta = new WeakMap<Element, Meta>()

interface TextBinding {
  ytext: Y.Text
  onedit: TextEdit | undefined
  /** The text as last shown, to diff a keystroke against. */
  shown: string
  /** The selection as positions relative to the text, so remote edits do not move the caret. */
  selection: [Y.RelativePosition, Y.RelativePosition] | null
}
const bindings = new WeakMap<HTMLTextAreaElement | HTMLInputElement, TextBinding>()

export function h(tag: string, props?: Props | null, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag)
  const p = props ?? {}
  meta.set(el, { props: p, key: p.key })
  for (const [name, value] of Object.entries(p)) setProp(el, name, value, undefined)
  if (p.ytext) bindText(el as HTMLTextAreaElement, p.ytext, p.onedit)
  if (typeof p.html === 'string') el.innerHTML = p.html
  else append(el, children)
  // A select's value names one of its options: set it once they exist.
  if (tag === 'select' && 'value' in p) setProperty(el, 'value', p.value, undefined)
  return el
}

function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(parent, c)
    else if (c instanceof Node) parent.appendChild(c)
    else parent.appendChild(document.createTextNode(String(c)))
  }
}

const className = (v: unknown): string => (Array.isArray(v) ? v.filter(Boolean).join(' ') : typeof v === 'string' ? v : '')

function setProp(el: HTMLElement, name: string, value: unknown, old: unknown): void {
  if (name === 'key' || name === 'ytext' || name === 'onedit' || name === 'html') return
  if (name.startsWith('on')) {
    ;(el as unknown as Record<string, unknown>)[name] = value ?? null
    return
  }
  if (name === 'class') {
    const c = className(value)
    if (el.className !== c) el.className = c
    return
  }
  if (PROPERTIES.has(name)) {
    // A select's value names one of its options: set once they are there (see h and patch).
    if (name === 'value' && el.tagName === 'SELECT') return
    // An option's value is its attribute (without one, it is its text, which is not there yet).
    if (name === 'value' && el.tagName === 'OPTION') {
      if (el.getAttribute('value') !== String(value)) el.setAttribute('value', String(value))
      return
    }
    setProperty(el, name, value, old)
    return
  }
  if (value === false || value === null || value === undefined) el.removeAttribute(name)
  else {
    const s = value === true ? '' : String(value)
    if (el.getAttribute(name) !== s) el.setAttribute(name, s)
  }
}

/** Inputs whose new value waited for the person to leave them. */
const stale = new WeakSet<Element>()

/**
 * Properties follow the model, not the other way round: a property is written only when the view's value for
 * it changed (so a half-typed field is not reset by an unrelated render), and a focused field's value waits
 * until it loses focus (what the person is typing wins until then).
 */
function setProperty(el: HTMLElement, name: string, value: unknown, old: unknown): void {
  const target = el as unknown as Record<string, unknown>
  if (old !== undefined && Object.is(old, value) && !stale.has(el)) return
  if (name === 'value' && old !== undefined && document.activeElement === el) {
    stale.add(el)
    return
  }
  stale.delete(el)
  if (target[name] !== value) target[name] = name === 'value' ? String(value) : value
}

const memos = new Map<string, { deps: readonly unknown[]; node: Element }>()
/** Stand-ins made since the last patch from the root (see endRender). */
let standins: Element[] = []

/** A new subtree goes in whole: a stand-in in it takes the live element it stands for. */
function adopt(node: Node): void {
  for (const stand of standins) if (stand !== node && node.contains(stand)) stand.replaceWith(meta.get(stand)!.same!)
}

/** Call after patching the root: the stand-ins of this render are done with. */
export function endRender(): void {
  standins = []
}

/**
 * A part of a view that is rebuilt only when one of `deps` changed (compared with Object.is). Otherwise it
 * stands in for the element already on screen, which patching then leaves alone: a big part (the tree) costs
 * nothing in a render that does not concern it, such as a keystroke in the request editor.
 */
export function memo(key: string, deps: readonly unknown[], build: () => HTMLElement): HTMLElement {
  const prev = memos.get(key)
  if (prev && prev.node.isConnected && prev.deps.length === deps.length && prev.deps.every((d, i) => Object.is(d, deps[i]))) {
    const stand = document.createElement(prev.node.tagName)
    const m = meta.get(prev.node)!
    meta.set(stand, { props: m.props, key: m.key, same: prev.node })
    standins.push(stand)
    return stand
  }
  const node = build()
  meta.get(node)!.memo = key
  memos.set(key, { deps, node })
  return node
}

/** Makes `into` look like `from` (built by the same view), reusing nodes. Returns the node now in place. */
export function patch(into: Node, from: Node): Node {
  if (into === from) return into
  const same = from.nodeType === Node.ELEMENT_NODE ? meta.get(from as Element)?.same : undefined
  if (same) {
    if (same === into) return into
    into.parentNode?.replaceChild(same, into)
    return same
  }
  if (!sameKind(into, from)) {
    adopt(from)
    into.parentNode?.replaceChild(from, into)
    return from
  }
  if (into.nodeType === Node.TEXT_NODE) {
    if (into.nodeValue !== from.nodeValue) into.nodeValue = from.nodeValue
    return into
  }
  const el = into as HTMLElement
  const next = meta.get(from as Element)
  const prev = meta.get(el)
  if (!next || !prev) {
    adopt(from)
    into.parentNode?.replaceChild(from, into)
    return from
  }
  // Attributes and properties.
  for (const name of Object.keys(prev.props)) {
    if (name in next.props) continue
    if (name.startsWith('on')) (el as unknown as Record<string, unknown>)[name] = null
    else if (name === 'class') el.className = ''
    else if (!PROPERTIES.has(name)) el.removeAttribute(name)
  }
  for (const [name, value] of Object.entries(next.props)) setProp(el, name, value, prev.props[name])
  const prevProps = prev.props
  prev.props = next.props
  if (next.memo) {
    // The live element now shows what the memo built: it is the one later renders stand in for.
    prev.memo = next.memo
    const entry = memos.get(next.memo)
    if (entry) entry.node = el
  }
  const binding = bindings.get(el as HTMLTextAreaElement)
  if (binding && next.props.ytext) {
    binding.onedit = next.props.onedit
    if (binding.ytext !== next.props.ytext) {
      binding.ytext = next.props.ytext
      binding.selection = null
    }
    refreshText(el as HTMLTextAreaElement, binding)
    return el
  }
  if (typeof next.props.html === 'string') {
    if (next.props.html !== prevProps.html) el.innerHTML = next.props.html
    return el
  }
  patchChildren(el, from)
  // A select shows what the view says, whatever was picked in it (a picker that acts and goes back to its
  // prompt; options that changed under the selection): compared with the element, not the previous view.
  if (el.tagName === 'SELECT' && 'value' in next.props && (el as HTMLSelectElement).value !== String(next.props.value)) (el as HTMLSelectElement).value = String(next.props.value)
  return el
}

const keyOf = (n: Node): string | undefined => (n.nodeType === Node.ELEMENT_NODE ? meta.get(n as Element)?.key : undefined)

function sameKind(a: Node, b: Node): boolean {
  if (a.nodeType !== b.nodeType) return false
  if (a.nodeType !== Node.ELEMENT_NODE) return true
  const ea = a as Element
  const eb = b as Element
  if (ea.tagName !== eb.tagName || keyOf(a) !== keyOf(b)) return false
  // An input never changes type in place (browsers reset its value).
  return ea.tagName !== 'INPUT' || (ea as HTMLInputElement).type === (eb as HTMLInputElement).type
}

function patchChildren(parent: Node, from: Node): void {
  const wanted = [...from.childNodes]
  const keyed = new Map<string, Node>()
  for (const c of parent.childNodes) {
    const k = keyOf(c)
    if (k !== undefined) keyed.set(k, c)
  }
  for (let i = 0; i < wanted.length; i++) {
    const w = wanted[i]!
    const k = keyOf(w)
    const here = parent.childNodes[i]
    let match: Node | undefined
    if (k !== undefined) match = keyed.get(k)
    else if (here && keyOf(here) === undefined && sameKind(here, w)) match = here
    if (match) {
      keyed.delete(k ?? '')
      if (match !== here) parent.insertBefore(match, here ?? null)
      patch(match, w)
    } else {
      const real = (w.nodeType === Node.ELEMENT_NODE && meta.get(w as Element)?.same) || w
      adopt(real)
      parent.insertBefore(real, here ?? null)
    }
  }
  while (parent.childNodes.length > wanted.length) parent.removeChild(parent.lastChild!)
}

// ------------------------------------------------------------------------------------------- Y.Text binding

function bindText(el: HTMLTextAreaElement, ytext: Y.Text, onedit: TextEdit | undefined): void {
  const binding: TextBinding = { ytext, onedit, shown: ytext.toString(), selection: null }
  bindings.set(el, binding)
  el.value = binding.shown
  const remember = () => {
    const b = bindings.get(el)!
    if (!b.ytext.doc) return
    b.selection = [
      Y.createRelativePositionFromTypeIndex(b.ytext, Math.min(el.selectionStart, b.ytext.length)),
      Y.createRelativePositionFromTypeIndex(b.ytext, Math.min(el.selectionEnd, b.ytext.length)),
    ]
  }
  el.addEventListener('input', () => {
    const b = bindings.get(el)!
    const before = b.shown
    const after = el.value
    if (!b.onedit) {
      el.value = before
      return
    }
    const { index, deleteCount, insert } = splice(before, after)
    b.shown = after
    if (deleteCount || insert) b.onedit(index, deleteCount, insert)
    remember()
  })
  for (const type of ['keyup', 'mouseup', 'select', 'focus']) el.addEventListener(type, remember)
}

function refreshText(el: HTMLTextAreaElement, b: TextBinding): void {
  const text = b.ytext.toString()
  if (text === el.value) {
    b.shown = text
    return
  }
  const focused = document.activeElement === el
  const doc = b.ytext.doc
  const sel = focused && b.selection && doc ? b.selection.map((r) => Y.createAbsolutePositionFromRelativePosition(r, doc)?.index) : null
  el.value = text
  b.shown = text
  if (sel && sel[0] !== undefined && sel[1] !== undefined) el.setSelectionRange(sel[0], sel[1])
}

/** The one splice that turns `a` into `b` (common prefix and suffix kept). */
function splice(a: string, b: string): { index: number; deleteCount: number; insert: string } {
  let start = 0
  const max = Math.min(a.length, b.length)
  while (start < max && a.charCodeAt(start) === b.charCodeAt(start)) start++
  let endA = a.length
  let endB = b.length
  while (endA > start && endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
    endA--
    endB--
  }
  return { index: start, deleteCount: endA - start, insert: b.slice(start, endB) }
}
