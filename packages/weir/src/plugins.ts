import path from 'node:path';
import { createRequire } from 'node:module';
import { KERNEL_VERSION, WeirError, closest, injectable, satisfiesRange, type PluginClass } from '@weir/kernel';
import { builtinPlugins } from './builtins.js';

function isPluginClass(v: unknown): v is PluginClass {
  return typeof v === 'function' && typeof (v as PluginClass).plugin === 'object' && (v as PluginClass).plugin !== null;
}

/** Kept for callers of weir's API: the kernel's range check. */
export const satisfies = satisfiesRange;

/** The built-in plugins plus third-party plugins named by package under `plugins:`, resolved from the config's directory. */
export function loadPlugins(configFile: string) {
  const byKey = new Map<string, PluginClass>(builtinPlugins.map((p) => [p.plugin.configKey, p]));
  const external: PluginClass[] = [];
  return {
    all(): PluginClass[] {
      return [...builtinPlugins, ...external];
    },
    /** Load every `plugins:` entry that is not built in as an npm package of that name; returns the new ones. */
    loadNamed(sections: Record<string, unknown>): PluginClass[] {
      const added: PluginClass[] = [];
      for (const name of Object.keys(sections)) {
        if (byKey.has(name)) continue;
        const cls = loadExternal(name, configFile);
        byKey.set(name, cls);
        external.push(cls);
        added.push(cls);
      }
      return added;
    },
  };
}

export function loadExternal(name: string, configFile: string): PluginClass {
  const req = createRequire(path.join(path.dirname(configFile), 'weir.config.js'));
  let mod: Record<string, unknown>;
  try {
    mod = req(name);
  } catch (e) {
    const near = closest(name, builtinPlugins.map((P) => P.plugin.configKey));
    const hint = near === undefined ? '' : `, did you mean \`${near}\`?`;
    throw new WeirError('WEIR_E_PLUGIN_NOT_FOUND',
      `plugins.${name}: no built-in plugin and no npm package "${name}" resolvable from ${path.dirname(configFile)} (${(e as Error).message.split('\n')[0]})${hint}`,
      { plugin: name });
  }
  const cls = [mod.default, ...Object.values(mod)].find(isPluginClass);
  if (!cls) throw new WeirError('WEIR_E_PLUGIN_INVALID', `plugins.${name}: package "${name}" exports no plugin class with a static \`plugin\` descriptor`, { plugin: name });
  const range = cls.plugin.kernel;
  if (range && !satisfies(KERNEL_VERSION, range)) {
    throw new WeirError('WEIR_E_PLUGIN_KERNEL_VERSION',
      `plugins.${name}: plugin "${cls.plugin.name}" supports @weir/kernel ${range}, this weir has ${KERNEL_VERSION}`, { plugin: name });
  }
  if (cls.plugin.configKey === name) return cls;
  return keyedBy(cls, name);
}

/**
 * Its section is named by the package: give the kernel a descriptor keyed the same way, on a
 * subclass that tsyringe constructs exactly like the original (same parameter types and tokens).
 */
export function keyedBy(cls: PluginClass, name: string): PluginClass {
  const descriptor = { ...cls.plugin, configKey: name };
  const Keyed = class extends (cls as new (...args: any[]) => any) {
    static readonly plugin = descriptor;
  };
  for (const key of ['design:paramtypes', 'injectionTokens']) {
    const value: unknown = Reflect.getOwnMetadata(key, cls);
    if (value !== undefined) Reflect.defineMetadata(key, value, Keyed);
  }
  injectable()(Keyed);
  return Keyed as unknown as PluginClass;
}
