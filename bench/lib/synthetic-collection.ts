/** A synthetic collection shaped like real ones: 5 folder levels, headers, query params, bodies, scripts. */
import type { CollectionModel } from '@apisync/model'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

export const buildCollection = (model: CollectionModel, requests: number): void => {
  // 4 top folders × 3 × 3 × 3 × 3 = 324 leaf folders at depth 5, requests spread over them.
  const leaves: string[] = []
  const grow = (parent: string | null, depth: number) => {
    for (let i = 0; i < (depth === 0 ? 4 : 3); i++) {
      const id = model.createFolder({ name: `Folder ${depth}.${i}`, description: `Endpoints of area ${depth}.${i}` }, { parent })
      if (depth === 4) leaves.push(id)
      else grow(id, depth + 1)
    }
  }
  grow(null, 0)
  for (let i = 0; i < requests; i++) {
    const method = METHODS[i % METHODS.length]!
    model.createRequest(
      {
        name: `${method} resource ${i}`,
        method,
        url: { raw: `{{baseUrl}}/v1/resources/${i}?page=1&limit=50` },
        headers: [
          { key: 'Accept', value: 'application/json' },
          { key: 'Authorization', value: 'Bearer {{token}}' },
          { key: 'X-Request-Id', value: `{{$guid}}` },
        ],
        body:
          method === 'GET' || method === 'DELETE'
            ? { mode: null }
            : { mode: 'raw', language: 'json', raw: JSON.stringify({ id: i, name: `Resource ${i}`, tags: ['a', 'b'], active: true }, null, 2) },
        scripts: {
          prerequest: i % 3 === 0 ? "pm.environment.set('ts', Date.now());" : '',
          test: "pm.test('status is 2xx', () => pm.response.to.be.success);\npm.test('json', () => pm.response.json());",
        },
      },
      { parent: leaves[i % leaves.length]! },
    )
  }
}
