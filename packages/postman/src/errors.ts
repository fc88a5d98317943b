/** Typed import errors that name the JSON path of the problem, e.g. `$.item[3].request.url`. */

export type PostmanErrorCode =
  | 'INVALID_JSON' // not JSON at all (truncated, bad syntax); the message gives line and column
  | 'INVALID_SHAPE' // JSON, but a value of the wrong type or form where the Postman format needs another
  | 'WRONG_KIND' // e.g. an environment given to importCollection
  | 'UNSUPPORTED_VERSION' // a Postman v1 collection (convert it to v2 with postman-collection-transformer first)
  | 'TOO_DEEP' // nesting deeper than the limit
  | 'TOO_LARGE' // the input or one of its strings is longer than the limit
  | 'TARGET_NOT_EMPTY' // the Y.Doc given to import into already holds something

export class PostmanImportError extends Error {
  override readonly name = 'PostmanImportError'
  constructor(
    readonly code: PostmanErrorCode,
    readonly detail: string,
    /** Where the problem is, as a JSONPath: `$` is the whole input. */
    readonly path: string,
  ) {
    super(`${detail} at ${path}`)
  }
}

/** A JSON path built while reading, rendered only when an error needs it. */
export type Path = { readonly up: Path; readonly key: string | number } | undefined

export const at = (up: Path, key: string | number): Path => ({ up, key })

export const renderPath = (path: Path): string => {
  const keys: (string | number)[] = []
  for (let p = path; p; p = p.up) keys.push(p.key)
  let out = '$'
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!
    out += typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
  }
  return out
}

export const fail = (code: PostmanErrorCode, detail: string, path: Path): never => {
  throw new PostmanImportError(code, detail, renderPath(path))
}

/** The usual failure: a value of the wrong type. */
export const expected = (what: string, path: Path, got: unknown): never =>
  fail('INVALID_SHAPE', `expected ${what}, got ${describe(got)}`, path)

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v === 'string' ? 'a string' : typeof v
