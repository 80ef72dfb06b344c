import * as vscode from 'vscode';
import { AgentClient } from './client';
import { AgentCommands } from './commands';
import { AgentController } from './controller';
import { DiffDocuments } from './diffs';
import { watchLoopDelay } from './loopDelay';
import { ReviewEditor } from './review';
import { AgentStatusBar } from './statusBar';
import { TranscriptView } from './transcript/view';

let agent: AgentClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  // vscode-languageclient 10+ needs a log output channel.
  const output = vscode.window.createOutputChannel('lsp-agent', { log: true });
  const controller = new AgentController(context.workspaceState);
  const diffs = new DiffDocuments();
  const view = new TranscriptView(context.extensionUri, controller, diffs);
  const commands = new AgentCommands(context, controller, view, output);
  const reviews = new ReviewEditor();
  agent = new AgentClient(context, controller, output, diffs, commands, reviews);
  commands.attach(agent);
  context.subscriptions.push(
    output,
    diffs.register(),
    reviews.register(),
    view.register(),
    new AgentStatusBar(controller),
    ...commands.register(),
    agent,
    vscode.workspace.onDidChangeConfiguration((event) => {
      // How the server starts, and the key's variable, only take effect in a new process.
      if (event.affectsConfiguration('lspAgent.server') || event.affectsConfiguration('lspAgent.model.apiKeyEnv')) {
        output.info('the server settings changed: restarting the server');
        void agent?.restart();
      }
    }),
    // Trusting the workspace lets its restricted settings (server command, model endpoint,
    // permission rules) apply: start over with them.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void agent?.restart()),
  );
  const loopDelay = watchLoopDelay(controller);
  if (loopDelay) {
    context.subscriptions.push(loopDelay);
  }
  void agent.start(); // activation does not wait for the server
}

export async function deactivate(): Promise<void> {
  await agent?.stop();
  agent = undefined;
}
