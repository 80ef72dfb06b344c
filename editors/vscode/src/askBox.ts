/**
 * The "Ask the agent" box: a QuickPick used as an input box, so `/` completes the slash
 * commands and `@` completes `@problems`, `@selection`, workspace files and their line ranges. Enter takes the highlighted completion while a
 * token is being typed, and sends the prompt otherwise.
 */

import * as vscode from 'vscode';
import { type SelectionLines, type Suggestion, activeToken, applySuggestion, commandSuggestions, mentionSuggestions } from './promptInput';
import type { SlashCommand } from './protocol';

export interface AskBoxOptions {
  title: string;
  prompt?: string;
  placeHolder: string;
  value?: string;
}

export interface AskBoxSources {
  commands(): Promise<SlashCommand[]>;
  files(): Promise<string[]>;
  /** The active editor's selected lines, for `@file:` range completion. */
  selection?(): SelectionLines | undefined;
}

interface Item extends vscode.QuickPickItem {
  suggestion?: Suggestion;
}

const MAX_WORKSPACE_FILES = 5000;

/** Workspace files as the server's mentions spell them (relative to their folder). */
export async function workspaceFiles(): Promise<string[]> {
  const uris = await vscode.workspace.findFiles('**/*', undefined, MAX_WORKSPACE_FILES);
  return uris.map((uri) => vscode.workspace.asRelativePath(uri, false));
}

export function askBox(options: AskBoxOptions, sources: AskBoxSources): Promise<string | undefined> {
  const pick = vscode.window.createQuickPick<Item>();
  pick.title = options.title;
  pick.placeholder = options.placeHolder;
  pick.ignoreFocusOut = true;
  pick.matchOnDescription = false;
  let commands: SlashCommand[] | undefined;
  let files: string[] | undefined;
  const load = <T>(get: () => Promise<T>, fallback: T): Promise<T> => get().catch(() => fallback);

  const refresh = async (): Promise<void> => {
    const value = pick.value;
    const token = activeToken(value);
    let suggestions: Suggestion[] = [];
    if (token?.kind === 'command') {
      commands ??= await load(() => sources.commands(), []);
      suggestions = commandSuggestions(token.text, commands);
    } else if (token?.kind === 'mention') {
      files ??= await load(() => sources.files(), []);
      suggestions = mentionSuggestions(token.text, files, sources.selection?.());
    }
    if (value !== pick.value) {
      return; // typed on while we loaded: that change refreshes again
    }
    // The row's label must not be the typed text: VS Code puts an item whose label matches
    // the filter first, and Enter would then send instead of taking the completion.
    const send: Item[] = value.trim() ? [{ label: '$(send) Send to the agent', detail: value.trim(), alwaysShow: true }] : [];
    const completions: Item[] = suggestions.map((s) => ({ label: s.label, description: s.description, alwaysShow: true, suggestion: s }));
    pick.items = [...completions, ...send];
  };

  return new Promise((resolve) => {
    let done = false;
    const finish = (result: string | undefined): void => {
      if (!done) {
        done = true;
        resolve(result);
        pick.dispose();
      }
    };
    pick.onDidChangeValue(() => void refresh());
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0] ?? pick.activeItems[0];
      const token = activeToken(pick.value);
      if (chosen?.suggestion && token) {
        pick.value = applySuggestion(pick.value, token, chosen.suggestion);
        void refresh();
        return;
      }
      finish(pick.value.trim() || undefined);
    });
    pick.onDidHide(() => finish(undefined));
    if (options.value) {
      pick.value = options.value;
    }
    if (options.prompt) {
      pick.placeholder = `${options.placeHolder} (${options.prompt})`;
    }
    void refresh();
    pick.show();
  });
}
