export { builtinPlugins } from './builtins.js';
export { loadPlugins, loadExternal, satisfies } from './plugins.js';
