/**
 * The status bar item: idle or running, with the current session's mode, review mode (when
 * edits are reviewed), context meter and cost (the model too, in the tooltip).
 * Clicking it while a prompt runs cancels it; otherwise it shows the transcript.
 */

import * as vscode from 'vscode';
import type { AgentController, SessionChoices } from './controller';
import type { ReviewMode } from './protocol';
import { type TranscriptState, formatCost, formatTokens, sessionCost } from './transcript/model';

/** How the tooltip names a review mode. */
export const REVIEW_NAMES: Record<ReviewMode, string> = {
  auto: 'off (edits land as the mode allows)',
  hunks: 'each hunk',
  file: 'each file',
};

export const CANCEL_COMMAND = 'lsp-agent.cancel';
export const SHOW_COMMAND = 'lsp-agent.showTranscript';

export interface StatusView {
  text: string;
  tooltip: string;
  command: string;
}

/** The context in use, as a share of the window when its size is known. */
export function contextMeter(usage: TranscriptState['usage']): { short: string; long: string } | undefined {
  if (!usage.contextUsed) {
    return undefined;
  }
  if (!usage.contextSize) {
    const used = formatTokens(usage.contextUsed);
    return { short: `${used} tokens`, long: `Context: ${used} tokens` };
  }
  const percent = Math.min(100, Math.round((100 * usage.contextUsed) / usage.contextSize));
  const long = `Context: ${formatTokens(usage.contextUsed)} / ${formatTokens(usage.contextSize)} tokens (${percent}%)`;
  return { short: `${percent}% context`, long };
}

/** Pure: what the item shows for a session state (undefined: no session yet). */
export function statusView(state: TranscriptState | undefined, connected: boolean, choices?: SessionChoices): StatusView {
  if (!connected) {
    return { text: '$(debug-disconnect) Agent', tooltip: 'lsp-agent: the server is not running', command: 'lsp-agent.showLog' };
  }
  const parts: string[] = [];
  const details: string[] = [];
  if (choices) {
    parts.push(choices.mode);
    const review = choices.review ? ` · Review: ${REVIEW_NAMES[choices.review]}` : '';
    details.push(`Model: ${choices.model} · Mode: ${choices.mode}${review}`);
    if (choices.review && choices.review !== 'auto') {
      parts.push(`review ${choices.review}`);
    }
  }
  if (state) {
    const meter = contextMeter(state.usage);
    if (meter) {
      parts.push(meter.short);
      details.push(meter.long);
    } else if (state.usage.totalTokens) {
      parts.push(`${formatTokens(state.usage.totalTokens)} tokens`);
    }
    const cost = sessionCost(state.usage);
    if (cost !== null) {
      parts.push(formatCost(cost));
      details.push(`Cost: ${formatCost(cost)}`);
    }
  }
  const suffix = parts.length ? ` · ${parts.join(' · ')}` : '';
  const more = details.length ? `\n${details.join('\n')}` : '';
  if (state?.running) {
    return {
      text: `$(loading~spin) Agent${suffix}`,
      tooltip: `lsp-agent is working: click to cancel${more}`,
      command: CANCEL_COMMAND,
    };
  }
  return { text: `$(hubot) Agent${suffix}`, tooltip: `lsp-agent is idle: click to show the transcript${more}`, command: SHOW_COMMAND };
}

export class AgentStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly listener: { dispose(): void };
  private running: boolean | undefined;

  constructor(private readonly controller: AgentController) {
    this.item = vscode.window.createStatusBarItem('lspAgent.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'lsp-agent';
    this.listener = controller.onDidChange(() => this.update());
    this.update();
    this.item.show();
  }

  update(): void {
    const view = statusView(this.controller.current?.state, this.controller.connected, this.controller.choices);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    if (this.running !== this.controller.running) {
      this.running = this.controller.running;
      void vscode.commands.executeCommand('setContext', 'lspAgent.running', this.running);
    }
  }

  dispose(): void {
    this.listener.dispose();
    this.item.dispose();
  }
}
