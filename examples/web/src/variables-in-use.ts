/**
 * Variables as a request uses them: this device's active environment (a local choice, never synced), and the
 * effective value of every `{{name}}` by Postman's precedence, through the library's `resolveVariables` (local
 * "current" values first, then environment over collection over globals). Shared values come from what the
 * workspace view already opened with the keyring; a value this device cannot open is "locked", never used.
 */
import { type ResolvedVariable, type ScopeVariables, type VariableScope, resolveVariables, substituteVariables } from '@apisync/client'
import type { Json, Variable } from '@apisync/model'
import type { App } from './app.js'
import type { DocRef } from './workspace-view.js'

const KEY = 'apisync-web:active-environment:'

const storageKey = (app: App): string | null => (app.view ? `${KEY}${app.account?.id ?? 'scratch'}:${app.view.id}` : null)

/** The environment chosen on this device for the shown workspace, if it still exists. */
export function activeEnvironment(app: App): string | null {
  const key = storageKey(app)
  const id = key ? localStorage.getItem(key) : null
  if (!id || !app.view) return null
  return app.view.manifest.snapshot().environments.some((e) => e.docId === id) ? id : null
}

export function setActiveEnvironment(app: App, id: string | null): void {
  const key = storageKey(app)
  if (!key) return
  if (id) localStorage.setItem(key, id)
  else localStorage.removeItem(key)
  app.invalidate()
}

export interface VariableInfo {
  readonly key: string
  readonly value: Json
  readonly scope: VariableScope
  /** This device's local value, not the shared one. */
  readonly local: boolean
  readonly secret: boolean
  /** Where it comes from, for people: `Environment “Staging”`, `Collection`, `Globals`, `Set by a script`. */
  readonly source: string
}

export interface VariableContext {
  readonly environmentName: string | null
  /** Key → effective variable (the library's `resolveVariables`). */
  readonly resolved: ReadonlyMap<string, ResolvedVariable>
  info(key: string): VariableInfo | undefined
  /** Keys that exist but whose value this device cannot open (no key for it): never substituted. */
  readonly locked: ReadonlySet<string>
  substitute(text: string): string
  /** As `substitute`, with secret values masked: for showing, never for sending. */
  display(text: string): string
}

/** The variables of one scope as resolveVariables takes them, with sealed values replaced by their opened ones. */
export interface OpenScope {
  readonly scope: Exclude<VariableScope, 'overrides'>
  readonly source: string
  readonly variables: readonly Variable[]
  readonly localValues?: ReadonlyMap<string, Json>
  readonly lockedKeys: readonly string[]
  /** Variable row id → the doc it belongs to (to write a local value back). */
  readonly doc: DocRef
}

/** The opened variables of a doc: shared values as opened, locked ones left out (and listed). */
export function openScope(app: App, doc: DocRef, scope: OpenScope['scope'], source: string): OpenScope | null {
  const view = app.view
  const handle = view?.handle(doc)
  if (!view || !handle || handle.model.kind === 'manifest') return null
  const list = view.variableList(doc)
  if (!list) return null
  const opened = view.opened.get(handle.name)
  const variables: Variable[] = []
  const lockedKeys: string[] = []
  for (const v of list.variables()) {
    const o = opened?.get(v.id)
    // Before the values are opened (or when they cannot be), a sealed value is not a value.
    if (view.local || !list.sealed(v.type)) variables.push(o?.state === 'open' ? { ...v, value: o.value } : v)
    else if (o?.state === 'open') variables.push({ ...v, value: o.value })
    else if (v.enabled) lockedKeys.push(v.key)
  }
  const localValues = view.locals.get(handle.name)?.getSnapshot()
  return { scope, source, variables, lockedKeys, doc, ...(localValues ? { localValues } : {}) }
}

/** The scopes a request of `collectionId` sees on this device, narrowest last. */
export function requestScopes(app: App, collectionId: string | null): OpenScope[] {
  const view = app.view
  if (!view) return []
  const out: OpenScope[] = []
  const globals = openScope(app, { kind: 'globals' }, 'globals', 'Globals')
  if (globals) out.push(globals)
  if (collectionId) {
    const col = openScope(app, { kind: 'collection', id: collectionId }, 'collection', 'Collection')
    if (col) out.push(col)
  }
  const envId = activeEnvironment(app)
  if (envId) {
    const name = view.environments.get(envId)?.model.snapshot().name ?? ''
    const env = openScope(app, { kind: 'environment', id: envId }, 'environment', `Environment “${name || 'Untitled'}”`)
    if (env) out.push(env)
  }
  return out
}

/** A variable context over scopes, with script-set values (pm.variables.set) as overrides. */
export function contextOf(scopes: readonly OpenScope[], overrides: Readonly<Record<string, Json>> = {}, environmentName: string | null = null): VariableContext {
  const byScope = new Map(scopes.map((s) => [s.scope, s]))
  const src = (s: OpenScope | undefined): ScopeVariables | undefined => (s ? { variables: s.variables, ...(s.localValues ? { localValues: s.localValues } : {}) } : undefined)
  const globals = src(byScope.get('globals'))
  const collection = src(byScope.get('collection'))
  const environment = src(byScope.get('environment'))
  const resolved = resolveVariables({ ...(globals ? { globals } : {}), ...(collection ? { collection } : {}), ...(environment ? { environment } : {}), overrides })
  const locked = new Set<string>()
  for (const s of scopes) for (const k of s.lockedKeys) if (!resolved.has(k)) locked.add(k)
  const info = (key: string): VariableInfo | undefined => {
    const r = resolved.get(key)
    if (!r) return undefined
    if (r.scope === 'overrides') return { key, value: r.value, scope: r.scope, local: true, secret: false, source: 'Set by a script' }
    const s = byScope.get(r.scope)
    const v = s?.variables.find((x) => x.id === r.id)
    return { key, value: r.value, scope: r.scope, local: r.local, secret: v?.type === 'secret', source: s?.source ?? r.scope }
  }
  const masked = new Map([...resolved].map(([k, r]) => [k, info(k)?.secret ? { ...r, value: '••••••' } : r]))
  return {
    environmentName,
    resolved,
    info,
    locked,
    substitute: (text) => substituteVariables(text, resolved),
    display: (text) => substituteVariables(text, masked),
  }
}

/** The variable context of a request on this device now. */
export function variableContext(app: App, collectionId: string | null): VariableContext {
  const envId = activeEnvironment(app)
  const envName = envId ? (app.view?.environments.get(envId)?.model.snapshot().name ?? null) : null
  return contextOf(requestScopes(app, collectionId), {}, envName)
}

/** `{{name}}` references in a text, in order, each once. */
export function referencedVariables(text: string): string[] {
  const out = new Set<string>()
  for (const m of text.matchAll(/\{\{([^{}]+)\}\}/g)) out.add(m[1]!)
  return [...out]
}
