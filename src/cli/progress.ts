/** A one-line progress bar on stderr for long work (silent when stderr is not a terminal or with --json). */
export interface Progress {
  update(done: number, note?: string): void;
  finish(note?: string): void;
}

export function createProgress(label: string, total: number, enabled: boolean): Progress {
  const on = enabled && process.stderr.isTTY === true;
  const started = Date.now();
  const draw = (done: number, note = '') => {
    const width = 24;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
    const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
    process.stderr.write(`\r${label} ${bar} ${done}/${total} (${rate.toFixed(0)}/s) ${note}`.padEnd(100));
  };
  return {
    update(done, note) {
      if (on) draw(done, note);
    },
    finish(note) {
      if (on) {
        draw(total, note);
        process.stderr.write('\n');
      }
    },
  };
}
