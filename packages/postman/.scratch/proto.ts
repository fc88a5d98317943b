import * as Y from 'yjs'
import { CollectionModel } from '@apisync/model'
const d = new Y.Doc()
const m = CollectionModel.create(d, { name: 'x' })
const id = m.createRequest({ name: 'r' })
m.addResponse(id, { name: 'a', cookies: JSON.parse('[{"__proto__": [1]}]') })
const s = m.snapshot()
console.log(JSON.stringify((s.items[0] as any).responses[0].cookies), s.problems)
m.createRequest({ name: 'q', extra: JSON.parse('{"__proto__": {"a": 1}, "b": 2}') })
console.log(JSON.stringify(m.snapshot().items[1]!.extra), m.snapshot().problems)
const d2 = new Y.Doc(); Y.applyUpdate(d2, Y.encodeStateAsUpdate(d))
const s2 = CollectionModel.open(d2).snapshot()
console.log(JSON.stringify((s2.items[0] as any).responses[0].cookies), JSON.stringify(s2.items[1]!.extra), s2.problems)
