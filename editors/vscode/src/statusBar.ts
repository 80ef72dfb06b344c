/**
 * The status bar item: idle or running, with the current session's tokens and cost.
 * Clicking it while a prompt runs cancels it; otherwise it shows the transcript.
 */

import * as vscode from 'vscode';
import type { AgentController } from './controller';
import { type TranscriptState, formatCost, formatTokens, sessionCost } from './transcript/model';

export const CANCEL_COMMAND = 'lsp-agent.cancel';
export const SHOW_COMMAND = 'lsp-agent.showTranscript';

export interface StatusView {
  text: string;
  tooltip: string;
  command: string;
}

/** Pure: what the item shows for a session state (undefined: no session yet). */
export function statusView(state: TranscriptState | undefined, connected: boolean): StatusView {
  if (!connected) {
    return { text: '$(debug-disconnect) Agent', tooltip: 'lsp-agent: the server is not running', command: 'lsp-agent.showLog' };
  }
  const parts: string[] = [];
  if (state) {
    const tokens = state.usage.totalTokens || state.usage.contextUsed;
    if (tokens) {
      parts.push(`${formatTokens(tokens)} tokens`);
    }
    const cost = sessionCost(state.usage);
    if (cost !== null) {
      parts.push(formatCost(cost));
    }
  }
  const suffix = parts.length ? ` · ${parts.join(' · ')}` : '';
  if (state?.running) {
    return {
      text: `$(loading~spin) Agent${suffix}`,
      tooltip: 'lsp-agent is working: click to cancel',
      command: CANCEL_COMMAND,
    };
  }
  return { text: `$(hubot) Agent${suffix}`, tooltip: 'lsp-agent is idle: click to show the transcript', command: SHOW_COMMAND };
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
    const view = statusView(this.controller.current?.state, this.controller.connected);
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
