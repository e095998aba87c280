/**
 * Whether a command's output gets ANSI colours: only on a terminal, and never when
 * `NO_COLOR` is set to anything but the empty string (https://no-color.org); a `TERM` of
 * `dumb` has no colours either.
 */

/** The part of a stream this needs. */
export interface OutputStream {
  isTTY?: boolean;
}

/** True when output to `stream` should be coloured under `env`. */
export function colourFor(stream: OutputStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR) return false;
  return stream.isTTY === true && env.TERM !== "dumb";
}
