/** Every error the model throws on a bad write carries one of these codes. */
export type ModelErrorCode =
  | 'INVALID_VALUE' // a write with a value of the wrong type or shape
  | 'NOT_FOUND' // an id that names nothing in this doc
  | 'DELETED' // an edit of an entity that is deleted (restore it first)
  | 'WRONG_KIND' // e.g. a folder id given where a request is needed
  | 'CYCLE' // a move into one's own subtree
  | 'READ_ONLY' // opened readOnly (a version from history), or written by a newer schema
  | 'NO_SUCH_CONFLICT' // resolving a conflict that is not open (any more)
  | 'BAD_CHOICE' // a conflict resolution that is not one of the offered choices
  | 'NOT_SEALED' // a clear variable value where the workspace has encryption on (see sealing.ts)

export class ModelError extends Error {
  override readonly name = 'ModelError'
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    /** Where the bad value was, e.g. `request:abc.headers:def.key`. */
    readonly path?: string,
  ) {
    super(path ? `${message} (at ${path})` : message)
  }
}
