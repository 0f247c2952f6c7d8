#!/usr/bin/env bash
# Long-running tests, kept out of `npm test` for time: the hostile-input fuzz with 100,000 malformed WOPI requests to
# an in-process bridge and 20,000 to a spawned one (test/integration/reliability/hostileInput.test.ts; `npm test`
# runs the same tests with 10,000 and 5,000). About 3 minutes on 2 cores. Meant to run after `npm test` in .ci/run.
#   FUZZ_REQUESTS / FUZZ_SPAWN_REQUESTS  requests to send    FUZZ_SEED  replay a run    FUZZ_MAX_MS  time bound per run
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm run build
export FUZZ_REQUESTS="${FUZZ_REQUESTS:-100000}"
export FUZZ_SPAWN_REQUESTS="${FUZZ_SPAWN_REQUESTS:-20000}"
export FUZZ_MAX_MS="${FUZZ_MAX_MS:-1500000}"
NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects integration \
  --runTestsByPath test/integration/reliability/hostileInput.test.ts
