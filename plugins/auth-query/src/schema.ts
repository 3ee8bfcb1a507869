import { z } from 'zod';
import { duration } from '@weir/kernel';

/** `plugins.auth_query`: settings shared by every database's lookups. */
export const authQueryConfigSchema = z.object({
  /** Bound on one lookup: connecting and running the query. */
  lookup_timeout: duration.prefault('5s').refine((ms) => ms > 0, 'must be more than 0'),
  /** Most users remembered per database (hits and misses); the oldest are forgotten first. */
  cache_max_entries: z.number().int().positive().default(100_000),
}).strict();

export type AuthQueryConfig = z.infer<typeof authQueryConfigSchema>;

/** `pools.<db>.auth_query`: how users of that database not listed in the config are looked up. */
export const authQuerySectionSchema = z.object({
  /** Run with the user name as $1; returns (user name, stored password) — or just the password. */
  query: z.string().min(1).refine((q) => q.includes('$1'), 'must use $1 for the user name'),
  /** The role the lookup connection logs in as. */
  user: z.string().min(1),
  password: z.string().default(''),
  /** Database of the lookup connection; defaults to the pool's server_database, then the pool's name. */
  database: z.string().min(1).optional(),
  cache_ttl: duration.prefault('1h'),
  cache_failure_ttl: duration.prefault('30s'),
  min_interval: duration.prefault('1s'),
  /** Size of each dynamic pool; defaults to the database's pool_size. */
  pool_size: z.number().int().positive().optional(),
  /** Dedicated mode: every user found shares one pool logged in as this role. */
  server_user: z.string().min(1).optional(),
  server_password: z.string().optional(),
}).strict().refine((s) => s.server_password === undefined || s.server_user !== undefined, {
  message: 'server_password needs server_user (dedicated mode)',
  path: ['server_password'],
});

export type AuthQuerySection = z.infer<typeof authQuerySectionSchema>;
