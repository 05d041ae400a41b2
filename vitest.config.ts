import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // CLI and engine tests spawn processes and containers; two cores are busy enough.
    maxWorkers: 2,
    globalSetup: ['test/engine/globalSetup.ts'],
    // Temporary project folders and archives are removed after each test file.
    setupFiles: ['test/setup.ts'],
  },
});
