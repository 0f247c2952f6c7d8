// Jest in ESM mode (webdav v5 is ESM-only): ts-jest with useESM, run with --experimental-vm-modules.
const tsJest = ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }];
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
};
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    // The admin page in Debian's chromium driven by playwright-core (scripts/install-test-deps.sh installs it).
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
