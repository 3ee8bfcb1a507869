import type { ZodType } from 'zod';

export interface PluginDescriptor<S extends ZodType = ZodType> {
  /** '@weir/plugin-auth-query' or any; names the plugin in errors and logs. */
  name: string;
  /** Key under `plugins:` in the config, e.g. 'auth_query'. */
  configKey: string;
  /** Validates `plugins.<configKey>` (the `enabled` key is the kernel's). */
  configSchema: S;
  /** A per-pool section owned by this plugin, e.g. 'auth_query' under `pools.<db>`. */
  poolSectionKey?: string;
  poolSectionSchema?: ZodType;
  /** configKeys of plugins that must be set up first. */
  dependsOn?: string[];
  /** Semver range of @weir/kernel supported, e.g. '^0.1.0'. */
  kernel?: string;
}

export interface WeirPlugin {
  setup(): void | Promise<void>;
  dispose?(): void | Promise<void>;
}

export interface PluginClass {
  new (...args: any[]): WeirPlugin;
  readonly plugin: PluginDescriptor;
}
