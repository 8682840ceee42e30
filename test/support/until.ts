/**
 * Waits for a condition instead of a fixed time: the one way tests order their steps. The
 * deadline only ends a wait that would never end, so it is generous (a loaded machine is slow);
 * no test asserts how soon a condition held.
 */

/** How long until() waits by default. */
export const UNTIL_DEFAULT_MS = 30000;

/**
 * Polls `condition` until it holds; fails naming `what` after `ms`. `what` may be a function,
 * called at the deadline, to say what was seen last. A condition that throws ends the wait with
 * its error (e.g. a process that exited while awaited).
 * @param ms @default 30000
 * @param pollMs @default 50
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string),
  ms = UNTIL_DEFAULT_MS,
  pollMs = 50,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
