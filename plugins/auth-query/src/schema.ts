import { z } from 'zod';
import { duration } from '@weir/kernel';

/** `plugins.auth_query`: settings shared by every database's lookups. */
export const authQueryConfigSchema = z.object({
  /** Bound on one lookup: connecting and running the query. */
  lookup_timeout: duration.prefault('5s').refine((ms) => ms > 0, 'must be more than 0').describe('Bound on one lookup: connecting and running the query.'),
  /** Most users remembered per database (hits and misses); the oldest are forgotten first. */
  cache_max_entries: z.number().int().positive().default(100_000).describe('Most users remembered per database (hits and misses); the oldest are forgotten first.'),
}).strict();

export type AuthQueryConfig = z.infer<typeof authQueryConfigSchema>;

/** `pools.<db>.auth_query`: how users of that database not listed in the config are looked up. */
export const authQuerySectionSchema = z.object({
  /** Run with the user name as $1; returns (user name, stored password) — or just the password. */
  query: z.string().min(1).refine((q) => q.includes('$1'), 'must use $1 for the user name').describe('Run with the user name as $1; returns (user name, stored password) or just the password.'),
  /** The role the lookup connection logs in as. */
  user: z.string().min(1).describe('The role the lookup connection logs in as.'),
  password: z.string().default('').describe('Password of the lookup role.'),
  /** Database of the lookup connection; defaults to the pool's server_database, then the pool's name. */
  database: z.string().min(1).optional().describe("Database of the lookup connection (defaults to the pool's server_database, then the pool's name)."),
  cache_ttl: duration.prefault('1h').describe('How long a found user is remembered.'),
  cache_failure_ttl: duration.prefault('30s').describe('How long a user not found (or a failed lookup) is remembered.'),
  min_interval: duration.prefault('1s').describe('Least time between two lookups of the same user.'),
  /** Size of each dynamic pool; defaults to the database's pool_size. */
  pool_size: z.number().int().positive().optional().describe("Size of each dynamic pool (defaults to the database's pool_size)."),
  /** Dedicated mode: every user found shares one pool logged in as this role. */
  server_user: z.string().min(1).optional().describe('Dedicated mode: every user found shares one pool logged in as this role.'),
  server_password: z.string().optional().describe('Password of server_user (dedicated mode).'),
}).strict().refine((s) => s.server_password === undefined || s.server_user !== undefined, {
  message: 'server_password needs server_user (dedicated mode)',
  path: ['server_password'],
});

export type AuthQuerySection = z.infer<typeof authQuerySectionSchema>;
