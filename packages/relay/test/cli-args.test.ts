/** The CLI's flags and environment variables. */
import { describe, expect, it } from 'vitest'
import { ConfigError } from '@apisync/relay'
import { parseCliArgs } from '../src/cli-args.js'

describe('parseCliArgs', () => {
  it('reads every flag', () => {
    const config = parseCliArgs(
      [
        '--port', '9000', '--host', '0.0.0.0', '--data', '/srv/apisync', '--jwt-secret', 's3cret', '--issuer', 'https://id',
        '--audience', 'apisync', '--max-devices', '5', '--device-policy', 'evict-lru', '--max-message-bytes', '1024',
        '--unload-after-ms', '500', '--dev-auth', '--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--log-level', 'debug',
      ],
      {},
    )
    expect(config).toEqual({
      help: false,
      logLevel: 'debug',
      options: {
        auth: { secret: 's3cret', publicKey: undefined, jwks: undefined, issuer: 'https://id', audience: 'apisync' },
        port: 9000,
        host: '0.0.0.0',
        dataDir: '/srv/apisync',
        devAuth: true,
        maxDevices: 5,
        devicePolicy: 'evict-lru',
        maxMessageBytes: 1024,
        unloadAfterMs: 500,
        tls: { cert: 'c.pem', key: 'k.pem' },
      },
    })
  })

  it('falls back to the environment, flags winning, with defaults', () => {
    const config = parseCliArgs(['--port', '1'], { PORT: '2', APISYNC_JWT_SECRET: 'env-secret', APISYNC_JWKS: 'https://id/jwks', APISYNC_MAX_DEVICES: '0' })
    if (config.help) throw new Error()
    expect(config.options).toMatchObject({ port: 1, host: '127.0.0.1', dataDir: './data', maxDevices: 0, devicePolicy: 'refuse', devAuth: false })
    expect(config.options.auth).toMatchObject({ secret: 'env-secret', jwks: 'https://id/jwks' })
    const defaults = parseCliArgs([], { APISYNC_DEV_AUTH: '1' })
    if (defaults.help) throw new Error()
    expect(defaults.options).toMatchObject({ port: 8787, devAuth: true, maxDevices: 3 })
  })

  it('history retention: flags, env, off, and nothing set (the relay defaults)', () => {
    const flags = parseCliArgs(['--jwt-secret', 's', '--history-keep-all-days', '7', '--history-daily-days', '90'], { APISYNC_HISTORY_CHECKPOINT_EVERY: '200' })
    if (flags.help) throw new Error()
    expect(flags.options.history).toEqual({ keepAllDays: 7, dailyDays: 90, checkpointEvery: 200 })
    const off = parseCliArgs(['--jwt-secret', 's'], { APISYNC_HISTORY: 'off', APISYNC_HISTORY_KEEP_ALL_DAYS: '3' })
    if (off.help) throw new Error()
    expect(off.options.history).toBe(false)
    const none = parseCliArgs(['--jwt-secret', 's', '--no-history'], {})
    if (none.help) throw new Error()
    expect(none.options.history).toBe(false)
    const defaults = parseCliArgs(['--jwt-secret', 's'], {})
    if (defaults.help) throw new Error()
    expect(defaults.options).not.toHaveProperty('history')
  })

  it.each([
    [['--history-keep-all-days', '-2', '--jwt-secret', 's'], /--history-keep-all-days/],
    [['--history-checkpoint-every', '0', '--jwt-secret', 's'], /--history-checkpoint-every/],
    [['--port', 'abc', '--jwt-secret', 's'], /--port/],
    [['--max-devices', '-1', '--jwt-secret', 's'], /--max-devices/],
    [['--device-policy', 'kick', '--jwt-secret', 's'], /device-policy/],
    [['--tls-cert', 'c.pem', '--jwt-secret', 's'], /tls/],
    [['--nope'], /nope/],
    [[], /verify tokens/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliArgs(argv, {})).toThrow(ConfigError)
    expect(() => parseCliArgs(argv, {})).toThrow(message)
  })

  it('--help', () => {
    expect(parseCliArgs(['--help'], {})).toEqual({ help: true })
  })
})
