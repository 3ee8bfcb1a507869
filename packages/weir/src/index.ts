export { builtinPlugins } from './builtins.js';
export { loadPlugins, loadExternal, satisfies } from './plugins.js';
export { configReference, generatedDocs, weirJsonSchema, type JsonSchema } from './docs.js';
export { checkConfigFile, problemLine } from './check.js';
