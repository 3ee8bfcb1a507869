import type { PluginClass } from '@weir/kernel';
import { AuthQueryPlugin } from '@weir/plugin-auth-query';
import { DynamicPoolsPlugin } from '@weir/plugin-dynamic-pools';
import { IdleGcPlugin } from '@weir/plugin-idle-gc';
// the proxy adapter entry: the host-neutral core plus prepared statements through transaction pooling
import { PreparedStatementsProxyPlugin } from '@weir/plugin-prepared-statements/proxy';

/** The plugins that ship with weir, switched on and off under `plugins:`. */
export const builtinPlugins: PluginClass[] = [AuthQueryPlugin, DynamicPoolsPlugin, IdleGcPlugin, PreparedStatementsProxyPlugin];
