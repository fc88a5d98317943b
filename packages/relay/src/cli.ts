#!/usr/bin/env node
/** apisync-relay: run the relay from the command line (see `apisync-relay --help`). */
import { parseCliArgs, usage } from './cli-args.js'
import { ConfigError } from './errors.js'
import { createJsonLogger, describeError } from './logger.js'
import { startRelay } from './server.js'

async function main(): Promise<void> {
  let config
  try {
    config = parseCliArgs(process.argv.slice(2), process.env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`apisync-relay: ${err.message}\n\n${usage}`)
    process.exit(2)
  }
  if (config.help) {
    process.stdout.write(usage)
    return
  }
  const logger = createJsonLogger({ level: config.logLevel })
  const running = await startRelay({ ...config.options, logger })
  logger.info('relay.listening', {
    url: running.url,
    wsUrl: running.wsUrl,
    port: running.port,
    relayId: running.relay.id,
    store: typeof config.options.store === 'string' ? redactUrl(config.options.store) : config.options.dataDir,
    bus: typeof config.options.bus === 'string' ? redactUrl(config.options.bus) : 'none',
    devAuth: config.options.devAuth ?? false,
  })
  if (config.options.devAuth) logger.warn('relay.dev-auth', { msg: 'POST /dev/token issues tokens to anyone: not for production' })

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info('relay.stopping', { signal })
    running.close().then(
      () => {
        logger.info('relay.stopped', {})
        process.exit(0)
      },
      (err: unknown) => {
        logger.error('relay.stop-failed', { error: describeError(err) })
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

/** A URL without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparsable URL)'
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`apisync-relay: ${describeError(err)}\n`)
  process.exit(1)
})
