/**
 * Test helper: a registry of live child processes shared by the helpers that spawn servers or programs
 * (`processes.ts`, `rcloneWebdav.ts`, `redisServer.ts`).
 *
 * Every child passed to {@link trackChild} stays registered until it exits. A process 'exit' hook, installed once,
 * SIGKILLs the children still registered, so a test process that exits without stopping its servers never leaves
 * them running.
 *
 * @module
 */
import type { ChildProcess } from 'node:child_process';

/** Children still running; killed synchronously if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Registers a freshly spawned child: it is removed again on its 'exit' event, and SIGKILLed when the test process
 * exits while it is still registered (the process 'exit' hook doing that is installed on the first call).
 * @param child the spawned child process
 */
export function trackChild(child: ChildProcess): void {
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** The registered children that have not exited yet (a snapshot: later spawns and exits do not change it). */
export function liveChildren(): ChildProcess[] {
  return [...live];
}
