import { inject, injectable } from 'tsyringe';
import type { ZodType, output } from 'zod';
import type { PluginContext } from './plugin-context.js';
import type { PluginDescriptor, WeirPlugin } from './plugin-types.js';
import { TOKENS } from './tokens.js';

/** What a plugin's `setup` may hand back: run at dispose, before the kernel removes what it registered through the context. */
export type PluginCleanup = () => void | Promise<void>;

/** A plugin as a descriptor and a setup function: `ctx.config` is typed from `configSchema`. */
export interface PluginDefinition<S extends ZodType> extends PluginDescriptor<S> {
  /** Register handlers, services, reports and metrics on `ctx`; return a cleanup for what it did by itself (timers). */
  setup(ctx: PluginContext<output<S>>): void | PluginCleanup | Promise<void | PluginCleanup>;
}

/** The class definePlugin makes: a PluginClass whose descriptor keeps the schema's type. */
export interface DefinedPlugin<S extends ZodType> {
  new (ctx: PluginContext<output<S>>): WeirPlugin;
  readonly plugin: PluginDescriptor<S>;
}

/**
 * A plugin class without the class: `definePlugin({ name, configKey, configSchema, setup(ctx) {…} })`.
 * The kernel loads it like any plugin (by class in code, by package name in the proxy); `setup`
 * receives the plugin's context, its config inferred from the schema.
 */
export function definePlugin<S extends ZodType>(definition: PluginDefinition<S>): DefinedPlugin<S> {
  const { setup, ...descriptor } = definition;
  class Defined implements WeirPlugin {
    static readonly plugin: PluginDescriptor<S> = descriptor;
    private cleanup: PluginCleanup | undefined;
    constructor(private readonly ctx: PluginContext<output<S>>) {}
    async setup(): Promise<void> {
      this.cleanup = (await setup(this.ctx)) ?? undefined;
    }
    async dispose(): Promise<void> {
      await this.cleanup?.();
    }
  }
  Object.defineProperty(Defined, 'name', { value: descriptor.name });
  inject(TOKENS.PluginContext)(Defined, undefined, 0);
  injectable()(Defined);
  return Defined;
}
