/** This plugin's package name: its descriptor name, and the owner message hooks that throw are reported under. */
export const PLUGIN_NAME = '@weir/plugin-prepared-statements';
