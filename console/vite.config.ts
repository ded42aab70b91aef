/**
 * Builds the web console into console/dist, served by Meridian at /_console/. Everything the page
 * loads comes out of this build (npm packages bundled, no CDN), so the console works offline.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: import.meta.dirname,
  base: '/_console/',
  // Preact's automatic JSX runtime, without a framework plugin.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The budget is 300 KB of gzipped JavaScript; Vite's warning is about raw size.
    chunkSizeWarningLimit: 800,
    modulePreload: { polyfill: false },
  },
  test: {
    include: ['src/**/*.spec.ts', 'src/**/*.spec.tsx'],
    environment: 'node',
  },
});
