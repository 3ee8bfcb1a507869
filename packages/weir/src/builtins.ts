import type { PluginClass } from '@weir/kernel';

/** The plugins that ship with weir, switched on and off under `plugins:`. */
export const builtinPlugins: PluginClass[] = [];
