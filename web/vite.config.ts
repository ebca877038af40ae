/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// During development, `PANDAFEST_NODE=http://127.0.0.1:PORT npm run dev` forwards /api to a
// running `pandafest serve`. Without it the dev server serves only the UI (use `?demo`).
const node = process.env.PANDAFEST_NODE

export default defineConfig({
  plugins: [react()],
  // Relative asset paths: the node may serve the UI under any path.
  base: './',
  server: node ? { proxy: { '/api': { target: node, changeOrigin: true } } } : undefined,
  build: {
    chunkSizeWarningLimit: 400,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
})
