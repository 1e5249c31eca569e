/**
 * Crash points for crash-safety tests: a process started with TRIBUTARY_FAILPOINTS=name[,name…] kills itself
 * with SIGKILL when it reaches a named point, exactly as a power cut would (no cleanup, no flush). Unset, a
 * failpoint costs one environment lookup.
 */
export function failpoint(name: string): void {
  const set = process.env.TRIBUTARY_FAILPOINTS;
  if (set?.split(',').includes(name)) process.kill(process.pid, 'SIGKILL');
}
