import type { PluginClass } from '@weir/kernel';
import { AuthQueryPlugin } from '@weir/plugin-auth-query';
import { DynamicPoolsPlugin } from '@weir/plugin-dynamic-pools';
import { IdleGcPlugin } from '@weir/plugin-idle-gc';
import { PreparedStatementsPlugin } from '@weir/plugin-prepared-statements';

/** The plugins that ship with weir, switched on and off under `plugins:`. */
export const builtinPlugins: PluginClass[] = [AuthQueryPlugin, DynamicPoolsPlugin, IdleGcPlugin, PreparedStatementsPlugin];
