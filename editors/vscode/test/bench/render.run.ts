/**
 * bench/render.py (b): the extension's code path for one streamed run, in Node, against the
 * real server (test/server harness) and the fake model server: the controller, transcript
 * model, TranscriptView (patches rendered and serialised as VS Code's webview IPC would) and
 * the status bar, with the event loop's delay measured by perf_hooks.monitorEventLoopDelay
 * and by a repeating timer's lateness. Runs only when bench/render.py sets
 * LSP_AGENT_BENCH_OUT (the script in LSP_AGENT_BENCH_SCRIPT); writes its figures there.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { DiffDocuments } from '../../src/diffs';
import { AgentStatusBar } from '../../src/statusBar';
import { TranscriptView } from '../../src/transcript/view';
import * as vscode from '../vscode.mock';
import { startAgent, startModelServer, tempDir } from '../server/harness';

const OUT = process.env.LSP_AGENT_BENCH_OUT;

describe.skipIf(!OUT)('render bench', () => {
  it('renders a streamed run with tool calls', async () => {
    const interval = Number(process.env.LSP_AGENT_BENCH_INTERVAL_MS ?? '5');
    const dir = tempDir('lsp-agent-bench-render-');
    const root = join(dir.path, 'ws');
    mkdirSync(root);
    writeFileSync(join(root, 'app.py'), 'def add(a, b):\n    return a + b\n');
    const script = JSON.parse(readFileSync(process.env.LSP_AGENT_BENCH_SCRIPT!, 'utf8'));
    const model = await startModelServer(dir.path, script);
    const agent = await startAgent(root, join(dir.path, 'state'), {
      settings: { 'model.baseUrl': model.baseUrl, 'model.name': 'fake-model', 'model.contextWindow': 200000, 'permissions.mode': 'auto' },
    });
    let messages = 0;
    let bytes = 0;
    const view = {
      description: undefined as string | undefined,
      visible: true,
      show: () => undefined,
      onDidChangeVisibility: () => new vscode.Disposable(),
      onDidDispose: () => new vscode.Disposable(),
      webview: {
        options: {},
        html: '',
        cspSource: 'vscode-resource:',
        asWebviewUri: (uri: unknown) => uri,
        onDidReceiveMessage: () => new vscode.Disposable(),
        postMessage: async (message: unknown) => {
          messages++;
          bytes += JSON.stringify(message).length; // what the IPC to the webview serialises
          return true;
        },
      },
    };
    const transcript = new TranscriptView(vscode.Uri.file('/ext') as never, agent.controller, {} as DiffDocuments);
    const registration = transcript.register();
    transcript.resolveWebviewView(view as never);
    const bar = new AgentStatusBar(agent.controller);

    const lateness: number[] = [];
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      lateness.push(Math.max(0, now - last - interval));
      last = now;
    }, interval);
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const started = performance.now();
    const result = await agent.controller.prompt(process.env.LSP_AGENT_BENCH_PROMPT ?? 'go');
    const runS = (performance.now() - started) / 1000;
    histogram.disable();
    clearInterval(ticker);
    bar.dispose();
    registration.dispose();
    const updates = agent.updates.length;
    await agent.stop();
    model.stop();
    dir.remove();
    expect(result.stopReason).toBe('end_turn');
    writeFileSync(
      OUT!,
      JSON.stringify({
        run_s: runS,
        updates,
        messages,
        bytes,
        tool_calls: result.toolCalls,
        lateness_ms: lateness,
        eld_ms: {
          p50: histogram.percentile(50) / 1e6,
          p99: histogram.percentile(99) / 1e6,
          max: histogram.max / 1e6,
          count: histogram.count,
        },
      }),
    );
  });
});
