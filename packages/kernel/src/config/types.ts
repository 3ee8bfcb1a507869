/** Parsed `general:` keys every host has (the kernel's pool timeouts), in milliseconds. A host's own keys extend it. */
export interface GeneralConfig {
  connect_timeout: number;
  query_wait_timeout: number;
  idle_timeout: number;
  server_lifetime: number;
}

/** A `plugins.<configKey>` section. Present = enabled unless `enabled: false`. */
export type PluginSection = { enabled: boolean } & Record<string, unknown>;

export interface Config {
  general: GeneralConfig;
  plugins: Record<string, PluginSection>;
  pools: Record<string, any>;
  /** The file it was loaded from, when there is one. */
  file?: string;
}

export interface ConfigDiff {
  /** Key paths that differ, e.g. 'pools.appdb.auth_query.query'. */
  changed: string[];
  poolsAdded: string[];
  poolsRemoved: string[];
  poolsChanged: string[];
}
