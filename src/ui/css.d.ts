// Stylesheets are bundled by esbuild into one file beside the script (scripts/build-ui.mjs).
declare module '*.css';
