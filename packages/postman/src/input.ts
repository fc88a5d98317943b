/**
 * Input checking before any decoding: text (with or without a UTF-8 BOM), bytes or an already parsed value
 * become a JSON value whose depth, size and string lengths are within limits. Everything after this point may
 * recurse and trust that values are plain JSON.
 */
import { type Path, at, fail } from './errors.js'
import { type Json, has } from './json.js'

export interface ImportLimits {
  /** Longest input text, in UTF-16 code units (bytes for byte input). Default 256 Mi. */
  readonly maxLength?: number
  /**
   * Deepest nesting of arrays and objects (the top level is 1). Default 48, at most 56: the model keeps JSON
   * values up to 64 levels deep, and what it cannot model is kept inside a few levels of wrapping.
   */
  readonly maxDepth?: number
  /** Longest string value or key. Default 16 Mi characters. */
  readonly maxStringLength?: number
}

export const DEFAULT_LIMITS: Required<ImportLimits> = {
  maxLength: 256 * 1024 * 1024,
  maxDepth: 48,
  maxStringLength: 16 * 1024 * 1024,
}

/** What the importers accept: JSON text (a leading BOM is fine), UTF-8 bytes, or the parsed value. */
/** A file as text or bytes, or already parsed: validated in full either way. */
export type PostmanInput = string | Uint8Array | object

const MAX_DEPTH = 56

export const readInput = (input: PostmanInput, limits: ImportLimits = {}): Json => {
  const l = { ...DEFAULT_LIMITS, ...limits }
  l.maxDepth = Math.min(l.maxDepth, MAX_DEPTH)
  let value: unknown = input
  if (input instanceof Uint8Array) {
    if (input.length > l.maxLength) fail('TOO_LARGE', `input is ${input.length} bytes, the limit is ${l.maxLength}`, undefined)
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input) // drops a BOM
    } catch {
      return fail('INVALID_JSON', 'input is not valid UTF-8', undefined)
    }
    value = parseText(text, l)
  } else if (typeof input === 'string') value = parseText(input, l)
  checkJson(value, l)
  return value as Json
}

const parseText = (raw: string, l: Required<ImportLimits>): unknown => {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw
  if (text.length > l.maxLength) fail('TOO_LARGE', `input is ${text.length} characters, the limit is ${l.maxLength}`, undefined)
  try {
    return JSON.parse(text)
  } catch (e) {
    return fail('INVALID_JSON', `not valid JSON: ${describeSyntaxError(text, e)}`, undefined)
  }
}

/** "Unexpected token } in JSON at position 120" → the same with line and column, which people can find. */
const describeSyntaxError = (text: string, e: unknown): string => {
  const message = e instanceof Error ? e.message : String(e)
  const m = /position (\d+)/.exec(message)
  const pos = m ? Number(m[1]) : /end of JSON input|Unterminated/i.test(message) ? text.length : undefined
  if (pos === undefined) return message
  let line = 1
  let col = 1
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      col = 1
    } else col++
  }
  return `${message.replace(/ in JSON at position \d+.*$/, '')} (line ${line}, column ${col})`
}

/** Walks the value iteratively (no recursion, so any depth is safe): plain JSON only, within limits. */
const checkJson = (root: unknown, l: Required<ImportLimits>): void => {
  const values: unknown[] = [root]
  const paths: Path[] = [undefined]
  const depths: number[] = [0]
  while (values.length) {
    const v = values.pop()
    const path = paths.pop()
    const depth = depths.pop()!
    if (v === null || typeof v === 'boolean') continue
    if (typeof v === 'string') {
      if (v.length > l.maxStringLength)
        fail('TOO_LARGE', `a string of ${v.length} characters exceeds the limit of ${l.maxStringLength}`, path)
      continue
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail('INVALID_SHAPE', 'expected a finite number', path)
      continue
    }
    if (typeof v !== 'object') return fail('INVALID_SHAPE', `expected JSON, got ${typeof v}`, path)
    if (depth + 1 > l.maxDepth) fail('TOO_DEEP', `nesting deeper than ${l.maxDepth} levels`, path)
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        values.push(v[i])
        paths.push(at(path, i))
        depths.push(depth + 1)
      }
      continue
    }
    const proto = Object.getPrototypeOf(v)
    if (proto !== Object.prototype && proto !== null) fail('INVALID_SHAPE', 'expected a plain JSON object', path)
    const o = v as Record<string, unknown>
    for (const key in o) {
      if (!has(o, key)) continue
      if (key.length > l.maxStringLength)
        fail('TOO_LARGE', `a key of ${key.length} characters exceeds the limit of ${l.maxStringLength}`, path)
      // Yjs' encoding (lib0) would read it back as a prototype, not a key: refuse rather than lose it on sync.
      if (key === '__proto__') fail('INVALID_SHAPE', 'a key named "__proto__" cannot be kept (it does not survive Yjs encoding)', at(path, key))
      values.push(o[key])
      paths.push(at(path, key))
      depths.push(depth + 1)
    }
  }
}

