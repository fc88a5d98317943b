/** Structured fields of a log line. Never put a token (or a URL with its query) in here. */
export type LogFields = Record<string, string | number | boolean | null | undefined>

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface JsonLoggerOptions {
  /** Lines below this level are dropped. Default 'info'. */
  level?: LogLevel
  /** Where lines go. Default process.stdout. */
  write?: (line: string) => void
}

/** One JSON object per line: `{"time":"…","level":"info","msg":"…",…fields}`. */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const min = rank[options.level ?? 'info']
  const write = options.write ?? ((line: string) => void process.stdout.write(line))
  const log = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (rank[level] < min) return
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n')
  }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** A short, log-safe description of an unknown thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`
  return String(err)
}
