/**
 * The demo server's request proxy, as the page and the server both speak it (types and constants only).
 *
 * The page POSTs a `ProxyRequest` as JSON to `/proxy` (same origin, `Authorization: Bearer <relay token>`).
 * On success the answer is 200 with the upstream body as raw bytes and `ProxyResponseMeta` (URI-encoded JSON)
 * in the `x-apisync-response` header. A refusal or a failure is a JSON `ProxyErrorBody` with a 4xx/5xx status
 * and no such header.
 */

export const PROXY_PATH = '/proxy'
export const META_HEADER = 'x-apisync-response'

export interface ProxyRequest {
  /** Any HTTP method token (GET, POST, PROPFIND…). */
  readonly method: string
  /** Absolute http: or https: URL. */
  readonly url: string
  /** Header name/value pairs in order; repeated names are sent repeated. */
  readonly headers: readonly (readonly [string, string])[]
  /** The body's bytes, base64. Absent: no body. */
  readonly body?: string
  /** Give up after this many milliseconds (capped by the server's own limit). */
  readonly timeoutMs?: number
  /** Follow 3xx redirects (default true, as Postman does). */
  readonly followRedirects?: boolean
}

export interface ProxyResponseMeta {
  readonly status: number
  readonly statusText: string
  /** Response headers as received, repeated names repeated (set-cookie). */
  readonly headers: readonly (readonly [string, string])[]
  /** The URL that answered (after redirects). */
  readonly url: string
  readonly redirects: number
  /** From sending the request to the last byte of the body. */
  readonly timeMs: number
  /** Body bytes as delivered (decompressed). */
  readonly size: number
  /** Body bytes on the wire, before content-encoding was undone. */
  readonly wireSize: number
}

export type ProxyErrorCode =
  | 'METHOD_NOT_ALLOWED'
  | 'FORBIDDEN_ORIGIN'
  | 'UNAUTHORIZED'
  | 'BAD_REQUEST'
  | 'REQUEST_TOO_LARGE'
  | 'BAD_URL'
  | 'UNSUPPORTED_PROTOCOL'
  | 'BAD_METHOD'
  | 'BAD_HEADER'
  | 'BUSY'
  | 'UNREACHABLE'
  | 'TIMEOUT'
  | 'TOO_LARGE'
  | 'TOO_MANY_REDIRECTS'
  | 'UPSTREAM_ERROR'

export interface ProxyErrorBody {
  readonly error: ProxyErrorCode
  readonly message: string
}
