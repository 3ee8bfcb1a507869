import { z, type ZodType } from 'zod';
import { duration } from './duration.js';
import type { Config, GeneralConfig } from './types.js';

/** How weir's connections to PostgreSQL use TLS (libpq's sslmode values). */
export const serverTlsMode = z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);
/** `secure` (TLS 1.2 and 1.3), `all`, `legacy`, or a comma list of tlsv1, tlsv1.1, tlsv1.2, tlsv1.3. */
export const tlsProtocols = z.string().regex(/^(secure|all|legacy|(tlsv1(\.[123])?)(\s*,\s*tlsv1(\.[123])?)*)$/i,
  'expected secure, all, legacy or a comma list of tlsv1, tlsv1.1, tlsv1.2, tlsv1.3');

/**
 * The `general:` keys every host uses: the kernel's pool timeouts. A host declares its own keys
 * around them (the proxy: listener, TLS, admin console, logging, limits — @weir/proxy's
 * proxyGeneralSchema); @weir/pg fills these from its pool options.
 */
export const generalShape = {
  connect_timeout: duration.prefault('5s').describe('Bound on opening and authenticating a server connection.'),
  query_wait_timeout: duration.prefault('2m').describe('How long a client waits for a server connection before it gets an error.'),
  idle_timeout: duration.prefault('10m').describe('A server connection idle this long is closed.'),
  server_lifetime: duration.prefault('1h').describe('A server connection older than this is closed when released.'),
};

/** The kernel's `general:` section (generalShape). Unknown keys are errors (a typo is never silently ignored). */
export const generalSchema = z.strictObject(generalShape);

const _general: ZodType<GeneralConfig> = generalSchema;
void _general;

/** A `plugins.<key>` section: `enabled` (default true) plus whatever the plugin validates. `key:` alone = enabled. */
export const pluginSectionSchema = z.preprocess(
  (v) => (v === null ? {} : v),
  z.looseObject({ enabled: z.boolean().default(true).describe('Switch the plugin on or off (a section present is on).') }),
);

/** The whole file. Pools are validated by `poolSchema` and `general` by `general` (the host's), the kernel's by default. */
export function configSchema(poolSchema: ZodType = z.looseObject({}), general: ZodType = generalSchema) {
  return z.strictObject({
    general: general.prefault({}),
    plugins: z.record(z.string(), pluginSectionSchema).default({}),
    pools: z.record(z.string(), poolSchema).default({}),
  });
}

/** The kernel's view of a config file (pools not checked beyond being objects). */
export const baseConfigSchema: ZodType<Config> = configSchema() as unknown as ZodType<Config>;
