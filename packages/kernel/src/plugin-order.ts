import { ErrorCodes, WeirError } from './errors.js';
import type { PluginClass } from './plugin-types.js';
import { KERNEL_VERSION, satisfiesRange } from './version.js';

/**
 * Index plugin classes by configKey; two with the same configKey or name is WEIR_E_PLUGIN_DUPLICATE,
 * one whose descriptor's `kernel` range this kernel does not satisfy WEIR_E_PLUGIN_KERNEL_VERSION
 * (for every plugin, built-in, external or a host app's).
 */
export function indexPlugins(plugins: readonly PluginClass[]): Map<string, PluginClass> {
  const byKey = new Map<string, PluginClass>();
  const byName = new Map<string, PluginClass>();
  for (const P of plugins) {
    const d = (P as Partial<PluginClass>).plugin;
    if (d === undefined || typeof d.name !== 'string' || typeof d.configKey !== 'string' || d.configSchema === undefined) {
      throw new WeirError(ErrorCodes.PLUGIN_INVALID, `plugin class ${P.name || '(anonymous)'} has no valid static "plugin" descriptor (name, configKey, configSchema)`, {
        plugin: P.name,
      });
    }
    if (d.kernel !== undefined && !satisfiesRange(KERNEL_VERSION, d.kernel)) {
      throw new WeirError(ErrorCodes.PLUGIN_KERNEL_VERSION,
        `plugin ${d.name} (plugins.${d.configKey}) supports @weir/kernel ${d.kernel}, this is ${KERNEL_VERSION}`,
        { plugin: d.name, key: `plugins.${d.configKey}`, range: d.kernel, kernel: KERNEL_VERSION });
    }
    const sameKey = byKey.get(d.configKey);
    const sameName = byName.get(d.name);
    if ((sameKey !== undefined && sameKey !== P) || (sameName !== undefined && sameName !== P)) {
      throw new WeirError(
        ErrorCodes.PLUGIN_DUPLICATE,
        `plugin ${d.name} (plugins.${d.configKey}) is registered twice`,
        { plugin: d.name, key: `plugins.${d.configKey}` },
      );
    }
    byKey.set(d.configKey, P);
    byName.set(d.name, P);
  }
  return byKey;
}

/**
 * Order `enabled` (configKeys) so every plugin comes after its dependsOn; ties keep the order
 * of `plugins`. Unknown dependency, a disabled dependency and a cycle are coded errors.
 */
export function orderPlugins(plugins: readonly PluginClass[], enabled: ReadonlySet<string>): PluginClass[] {
  const byKey = indexPlugins(plugins);
  const order: PluginClass[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (P: PluginClass, trail: string[]): void => {
    const key = P.plugin.configKey;
    const s = state.get(key);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(key)), key];
      throw new WeirError(ErrorCodes.PLUGIN_CYCLE, `plugin dependency cycle: ${cycle.join(' -> ')}`, { plugin: P.plugin.name, cycle });
    }
    state.set(key, 'visiting');
    for (const dep of P.plugin.dependsOn ?? []) {
      const D = byKey.get(dep);
      if (D === undefined) {
        throw new WeirError(
          ErrorCodes.PLUGIN_UNKNOWN_DEPENDENCY,
          `plugin ${P.plugin.name} depends on unknown plugin "${dep}"`,
          { plugin: P.plugin.name, dependency: dep },
        );
      }
      if (!enabled.has(dep)) {
        throw new WeirError(
          ErrorCodes.PLUGIN_DEPENDENCY_DISABLED,
          `plugin ${P.plugin.name} depends on plugin "${dep}", which is not enabled (enable it under plugins.${dep})`,
          { plugin: P.plugin.name, dependency: dep, key: `plugins.${dep}` },
        );
      }
      visit(D, [...trail, key]);
    }
    state.set(key, 'done');
    order.push(P);
  };
  for (const P of plugins) if (enabled.has(P.plugin.configKey)) visit(P, []);
  return order;
}
