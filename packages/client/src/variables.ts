/**
 * Effective variables with Postman's precedence: per scope, a variable's local ("current") value wins over
 * its shared value; between scopes, the narrower wins: overrides (data, script locals) over environment over
 * collection over globals. Disabled variables do not count.
 */
import type { Json, Variable } from '@apisync/model'

export type VariableScope = 'globals' | 'collection' | 'environment' | 'overrides'

export interface ScopeVariables {
  readonly variables: readonly Variable[]
  /** Variable id → local value (see LocalValues). */
  readonly localValues?: ReadonlyMap<string, Json>
}

export interface ResolvedVariable {
  readonly value: Json
  readonly scope: VariableScope
  /** True when the value is this device's local value, not the shared one. */
  readonly local: boolean
  /** The variable's row id (absent for overrides). */
  readonly id?: string
}

export interface VariableSources {
  readonly globals?: ScopeVariables
  readonly collection?: ScopeVariables
  readonly environment?: ScopeVariables
  /** Highest precedence: iteration data, values set by scripts. */
  readonly overrides?: Readonly<Record<string, Json>>
}

/** Key → effective value. Within one scope, the last enabled variable with a key wins (Postman does so). */
export const resolveVariables = (sources: VariableSources): ReadonlyMap<string, ResolvedVariable> => {
  const out = new Map<string, ResolvedVariable>()
  for (const scope of ['globals', 'collection', 'environment'] as const) {
    const s = sources[scope]
    if (!s) continue
    for (const v of s.variables) {
      if (!v.enabled || v.key === '') continue
      const local = s.localValues?.get(v.id)
      out.set(v.key, local !== undefined ? { value: local, scope, local: true, id: v.id } : { value: v.value, scope, local: false, id: v.id })
    }
  }
  for (const [key, value] of Object.entries(sources.overrides ?? {})) out.set(key, { value, scope: 'overrides', local: true })
  return out
}

/**
 * Replaces `{{name}}` with the variable's value (strings as they are, other JSON as JSON). Values may refer to
 * other variables; resolution stops after `maxDepth` rounds so that cycles terminate. Unknown names stay.
 */
export const substituteVariables = (text: string, variables: ReadonlyMap<string, ResolvedVariable>, maxDepth = 10): string => {
  let out = text
  for (let round = 0; round < maxDepth; round++) {
    let changed = false
    out = out.replace(/\{\{([^{}]+)\}\}/g, (whole, name: string) => {
      const v = variables.get(name)
      if (!v) return whole
      changed = true
      return typeof v.value === 'string' ? v.value : JSON.stringify(v.value)
    })
    if (!changed) break
  }
  return out
}
