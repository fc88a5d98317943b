/** Texts the model edits as Y.Text: descriptions (a string or `{ content, type }`) and scripts (`event` lists). */
import type { Scripts } from '@apisync/model'
import { at, expected } from './errors.js'
import { own } from './fields.js'
import { type Json, type Out, assignOwn, isObject, omitKeys } from './json.js'
import type { Field } from './shape.js'

const CONTENT = new Set(['content'])

/** A description: the model holds its text; an object form (`type`, `version`…) is kept around it. */
export const description = (key = 'description'): Field<string> => ({
  keys: [key],
  read(src, path) {
    const v = own(src, key)
    if (v === undefined || v === null) return { value: '' }
    if (typeof v === 'string') return { value: v }
    if (isObject(v)) {
      const content = own(v, 'content')
      if (content !== undefined && typeof content !== 'string') expected('a string', at(at(path, key), 'content'), content)
      const form: Out = { object: omitKeys(v, CONTENT) }
      if (content === undefined) form.noContent = true
      return { value: (content as string | undefined) ?? '', form }
    }
    return expected('a string or a description object', at(path, key), v)
  },
  write(out, value, form) {
    if (isObject(form) && isObject(form.object)) {
      const o: Out = {}
      assignOwn(o, form.object)
      if (value !== '' || form.noContent !== true) o.content = value
      out[key] = o
    } else if (value !== '') out[key] = value
  },
})

const LISTENS = ['prerequest', 'test'] as const
type Listen = (typeof LISTENS)[number]
const NO_SCRIPTS: Scripts = Object.freeze({ prerequest: '', test: '' })
const EXEC = new Set(['exec'])

export const splitLines = (code: string): string[] => (code === '' ? [] : code.split('\n'))

const isLines = (v: Json): v is readonly string[] => Array.isArray(v) && v.every((l) => typeof l === 'string')

const defaultEvent = (listen: Listen, code: string): Json => ({
  listen,
  script: { type: 'text/javascript', exec: splitLines(code) },
})

/** `exec` as it came: one string (`text`), lines (`lines`), or lines that splitting would not give back (kept). */
const execFor = (code: string, form: Json | undefined): Json => {
  if (form === 'text') return code
  if (Array.isArray(form) && form.join('\n') === code) return form
  return splitLines(code)
}

/**
 * The `event` list: the first enabled `prerequest` and `test` scripts are the model's scripts; every other event
 * (script references, other listeners, a second test script) and all script metadata (`id`, `type`, `packages`…)
 * stay in the form, around the texts.
 */
export const scripts: Field<Scripts> = {
  keys: ['event'],
  read(src, path) {
    const v = own(src, 'event')
    if (v === undefined) return { value: NO_SCRIPTS }
    const p = at(path, 'event')
    if (!Array.isArray(v)) return expected('an array of events', p, v)
    const value = { prerequest: '', test: '' }
    const where: Out = {}
    const exec: Out = {}
    const events: Json[] = []
    v.forEach((e, i) => {
      const ep = at(p, i)
      if (!isObject(e)) return expected('an event object', ep, e)
      const listen = own(e, 'listen')
      if (typeof listen !== 'string') expected('a string', at(ep, 'listen'), listen)
      const script = own(e, 'script')
      let code: string | readonly string[] | undefined
      if (isObject(script)) {
        const x = own(script, 'exec')
        if (x !== undefined) {
          if (typeof x === 'string' || isLines(x)) code = x
          else expected('a string or an array of lines', at(at(ep, 'script'), 'exec'), x)
        }
      } else if (script !== undefined && typeof script !== 'string') expected('a script object or a script id', at(ep, 'script'), script)
      if ((listen === 'prerequest' || listen === 'test') && where[listen] === undefined && code !== undefined && own(e, 'disabled') !== true) {
        const text = typeof code === 'string' ? code : code.join('\n')
        where[listen] = i
        value[listen] = text
        exec[listen] = typeof code === 'string' ? 'text' : sameLines(splitLines(text), code) ? 'lines' : code
        events.push({ ...e, script: omitKeys(script as Out, EXEC) })
      } else events.push(e)
    })
    return { value, form: { events, at: where, exec } }
  },
  write(out, value, form) {
    if (isObject(form) && Array.isArray(form.events)) {
      const where = isObject(form.at) ? form.at : {}
      const exec = isObject(form.exec) ? form.exec : {}
      const events = form.events.slice()
      for (const l of LISTENS) {
        const i = where[l]
        const e = typeof i === 'number' ? events[i] : undefined
        if (isObject(e) && isObject(e.script)) events[i as number] = { ...e, script: { ...e.script, exec: execFor(value[l], exec[l]) } }
        else if (value[l] !== '') events.push(defaultEvent(l, value[l]))
      }
      out.event = events
      return
    }
    const events = LISTENS.filter((l) => value[l] !== '').map((l) => defaultEvent(l, value[l]))
    if (events.length) out.event = events
  },
}

const sameLines = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((l, i) => l === b[i])
