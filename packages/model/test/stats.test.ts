import fc from 'fast-check'
import { test } from 'vitest'
import { ModelError } from '@apisync/model'
import * as P from './property.test'
test('stats', () => {
  const stats = new Map<string, [number, number, Map<string, number>]>()
  const W = (P as any).World
  fc.assert(fc.property(fc.integer({ min: 2, max: 5 }), fc.array((P as any).op, { minLength: 1, maxLength: 40 }), (n, ops) => {
    const w = new W(n)
    for (const o of ops as any[]) {
      const s = stats.get(o.t) ?? [0, 0, new Map()]
      stats.set(o.t, s)
      const orig = w.models.map((m: any) => m)
      let err: unknown
      try { w.applyStrict(o) } catch (e) { err = e }
      if (err instanceof ModelError) { s[1]++; s[2].set(err.code, (s[2].get(err.code) ?? 0) + 1) } else if (err) throw err; else s[0]++
    }
  }), { numRuns: 300 })
  for (const [k, [ok, bad, codes]] of stats) console.log(k.padEnd(14), ok, bad, JSON.stringify([...codes]))
})
