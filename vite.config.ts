import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { tfjsWasmThreads } from './scripts/vite-tfjs-wasm';

// Cross-origin isolation lets the WASM backend use threads (SharedArrayBuffer) in the page.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // `plugins` applies to workers only in dev; the built worker bundle gets `worker.plugins`.
  plugins: [tfjsWasmThreads(), react()],
  server: { host: 'localhost', headers: isolation },
  preview: { host: 'localhost', headers: isolation },
  worker: { format: 'es', plugins: () => [tfjsWasmThreads()] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});
