/**
 * Off unless LSP_AGENT_LOOP_DELAY names a file: then the extension host's event-loop delay is
 * sampled (perf_hooks.monitorEventLoopDelay) while a prompt runs, and when the run ends its
 * p50/p99/max (milliseconds beyond the sampling interval) are written to that file as JSON.
 * The end-to-end test reads it while a long answer streams; nothing else uses it.
 */

import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

export interface Runs {
  readonly running: boolean;
  onDidChange(listener: () => void): { dispose(): void };
}

export function watchLoopDelay(runs: Runs, path = process.env.LSP_AGENT_LOOP_DELAY): { dispose(): void } | undefined {
  if (!path) {
    return undefined;
  }
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  let running = false;
  const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
  const subscription = runs.onDidChange(() => {
    if (runs.running && !running) {
      histogram.reset();
      histogram.enable();
    } else if (!runs.running && running) {
      histogram.disable();
      const figures = { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), samples: histogram.count };
      try {
        writeFileSync(path, `${JSON.stringify(figures)}\n`);
      } catch {
        // a measurement aid only: never disturb the extension
      }
    }
    running = runs.running;
  });
  return {
    dispose: () => {
      subscription.dispose();
      histogram.disable();
    },
  };
}
