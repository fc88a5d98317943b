/** The CLI's configuration: flags, falling back to environment variables. */
import { parseArgs } from 'node:util'
import type { AuthConfig } from './auth.js'
import { ConfigError } from './errors.js'
import type { StartRelayOptions } from './server.js'

export const usage = `apisync-relay: durable y-websocket sync with JWT auth, sessions and a device limit

Usage: apisync-relay [options]

  --port <n>                 PORT                       listen port (default 8787; 0 = any free port)
  --host <addr>              APISYNC_HOST               listen address (default 127.0.0.1)
  --data <dir>               APISYNC_DATA_DIR           directory of apisync.sqlite (default ./data)
  --store <url>              APISYNC_STORE              postgres://… : docs and sessions in Postgres (several relays)
  --redis <url>              APISYNC_REDIS              redis://… : fan-out between relays over Redis pub/sub
  --redis-prefix <p>         APISYNC_REDIS_PREFIX       prefix of the Redis channels (default apisync:)
  --jwt-secret <secret>      APISYNC_JWT_SECRET         HS256 secret
  --public-key <pem|file>    APISYNC_PUBLIC_KEY         ES256/RS256 public key (PEM text or file)
  --jwks <url|file>          APISYNC_JWKS               JWKS (https URL or file)
  --issuer <iss>             APISYNC_ISSUER             required token issuer
  --audience <aud>           APISYNC_AUDIENCE           required token audience
  --max-devices <n>          APISYNC_MAX_DEVICES        sessions of one account at once (default 3; 0 = no limit)
  --device-policy <p>        APISYNC_DEVICE_POLICY      refuse | evict-lru (default refuse)
  --max-message-bytes <n>    APISYNC_MAX_MESSAGE_BYTES  largest message (default 16777216)
  --unload-after-ms <n>      APISYNC_UNLOAD_AFTER_MS    grace before an idle doc is unloaded (default 30000)
  --history-keep-all-days <n> APISYNC_HISTORY_KEEP_ALL_DAYS  keep every version this many days (default 30)
  --history-daily-days <n>   APISYNC_HISTORY_DAILY_DAYS then one version per day this many more days (default 365)
  --history-checkpoint-every <n> APISYNC_HISTORY_CHECKPOINT_EVERY  updates between checkpoints (default 500)
  --no-history               APISYNC_HISTORY=off        keep no history (compaction drops the update log)
  --dev-auth                 APISYNC_DEV_AUTH=1         enable POST /dev/token (never in production)
  --tls-cert <file>          APISYNC_TLS_CERT           serve HTTPS/WSS with this certificate (PEM)
  --tls-key <file>           APISYNC_TLS_KEY            ... and this private key (PEM)
  --log-level <level>        APISYNC_LOG_LEVEL          debug | info | warn | error (default info)
  -h, --help
`

export type CliConfig =
  | { help: true }
  | { help: false; options: StartRelayOptions; logLevel: 'debug' | 'info' | 'warn' | 'error' }

export const DEFAULT_PORT = 8787

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv): CliConfig {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
        store: { type: 'string' },
        redis: { type: 'string' },
        'redis-prefix': { type: 'string' },
        'jwt-secret': { type: 'string' },
        'public-key': { type: 'string' },
        jwks: { type: 'string' },
        issuer: { type: 'string' },
        audience: { type: 'string' },
        'max-devices': { type: 'string' },
        'device-policy': { type: 'string' },
        'max-message-bytes': { type: 'string' },
        'unload-after-ms': { type: 'string' },
        'history-keep-all-days': { type: 'string' },
        'history-daily-days': { type: 'string' },
        'history-checkpoint-every': { type: 'string' },
        'no-history': { type: 'boolean' },
        'dev-auth': { type: 'boolean' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (cause) {
    throw new ConfigError(cause instanceof Error ? cause.message : String(cause))
  }
  if (values.help) return { help: true }

  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] === '' ? undefined : env[name])
  const int = (raw: string | undefined, what: string, min: number): number | undefined => {
    if (raw === undefined) return undefined
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min) throw new ConfigError(`${what} must be an integer ≥ ${min}`)
    return n
  }

  const auth: AuthConfig = {
    secret: pick(values['jwt-secret'], 'APISYNC_JWT_SECRET'),
    publicKey: pick(values['public-key'], 'APISYNC_PUBLIC_KEY'),
    jwks: pick(values.jwks, 'APISYNC_JWKS'),
    issuer: pick(values.issuer, 'APISYNC_ISSUER'),
    audience: pick(values.audience, 'APISYNC_AUDIENCE'),
  }
  const devAuth = values['dev-auth'] ?? ['1', 'true'].includes(env.APISYNC_DEV_AUTH ?? '')
  if (!auth.secret && !auth.publicKey && !auth.jwks && !devAuth)
    throw new ConfigError('no way to verify tokens: give --jwt-secret, --public-key or --jwks (or --dev-auth)')

  const policy = pick(values['device-policy'], 'APISYNC_DEVICE_POLICY') ?? 'refuse'
  if (policy !== 'refuse' && policy !== 'evict-lru') throw new ConfigError('--device-policy must be refuse or evict-lru')
  const logLevel = pick(values['log-level'], 'APISYNC_LOG_LEVEL') ?? 'info'
  if (logLevel !== 'debug' && logLevel !== 'info' && logLevel !== 'warn' && logLevel !== 'error')
    throw new ConfigError('--log-level must be debug, info, warn or error')
  const cert = pick(values['tls-cert'], 'APISYNC_TLS_CERT')
  const key = pick(values['tls-key'], 'APISYNC_TLS_KEY')
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError('--tls-cert and --tls-key go together')

  const store = pick(values.store, 'APISYNC_STORE')
  if (store !== undefined && !/^postgres(ql)?:\/\//i.test(store)) throw new ConfigError('--store must be a postgres:// URL (SQLite is the default: use --data)')
  const redis = pick(values.redis, 'APISYNC_REDIS')
  if (redis !== undefined && !/^rediss?:\/\//i.test(redis)) throw new ConfigError('--redis must be a redis:// or rediss:// URL')
  const redisPrefix = pick(values['redis-prefix'], 'APISYNC_REDIS_PREFIX')

  const noHistory = values['no-history'] ?? ['off', '0', 'false'].includes((env.APISYNC_HISTORY ?? '').toLowerCase())
  const keepAllDays = int(pick(values['history-keep-all-days'], 'APISYNC_HISTORY_KEEP_ALL_DAYS'), '--history-keep-all-days', 0)
  const dailyDays = int(pick(values['history-daily-days'], 'APISYNC_HISTORY_DAILY_DAYS'), '--history-daily-days', 0)
  const checkpointEvery = int(pick(values['history-checkpoint-every'], 'APISYNC_HISTORY_CHECKPOINT_EVERY'), '--history-checkpoint-every', 1)
  const history = noHistory
    ? false
    : {
        ...(keepAllDays !== undefined ? { keepAllDays } : {}),
        ...(dailyDays !== undefined ? { dailyDays } : {}),
        ...(checkpointEvery !== undefined ? { checkpointEvery } : {}),
      }

  const options: StartRelayOptions = {
    ...(history === false || Object.keys(history).length > 0 ? { history } : {}),
    auth,
    port: int(pick(values.port, 'PORT'), '--port', 0) ?? DEFAULT_PORT,
    host: pick(values.host, 'APISYNC_HOST') ?? '127.0.0.1',
    dataDir: pick(values.data, 'APISYNC_DATA_DIR') ?? './data',
    ...(store !== undefined ? { store } : {}),
    ...(redis !== undefined ? { bus: redis } : {}),
    ...(redisPrefix !== undefined ? { busPrefix: redisPrefix } : {}),
    devAuth,
    maxDevices: int(pick(values['max-devices'], 'APISYNC_MAX_DEVICES'), '--max-devices', 0) ?? 3,
    devicePolicy: policy,
    maxMessageBytes: int(pick(values['max-message-bytes'], 'APISYNC_MAX_MESSAGE_BYTES'), '--max-message-bytes', 1),
    unloadAfterMs: int(pick(values['unload-after-ms'], 'APISYNC_UNLOAD_AFTER_MS'), '--unload-after-ms', 0),
    ...(cert !== undefined && key !== undefined ? { tls: { cert, key } } : {}),
  }
  return { help: false, options, logLevel }
}
