export { AuthQueryPlugin, AUTH_QUERY_CACHE, AUTH_QUERY_LOOKUP, type AuthQueryCache, type AuthQueryMode, type AuthQueryStats } from './plugin.js';
export { authQueryConfigSchema, authQuerySectionSchema, type AuthQueryConfig, type AuthQuerySection } from './schema.js';
export { AUTH_QUERY_FAILED, DatabaseCredentials, type CredentialSettings, type CredentialStats } from './credentials.js';
export { PgLookup, storedPassword, type Lookup, type LookupFactory, type LookupTarget } from './lookup.js';
export { secretFromStored } from './secret.js';
