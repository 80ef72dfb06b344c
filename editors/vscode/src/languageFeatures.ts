/**
 * `agent/languageFeature`: the agent's language tools (definition, references, hover,
 * symbols, rename, code actions, diagnostics) answered by every language server VS Code has,
 * through its `vscode.execute*Provider` commands, which see unsaved buffers. Their results
 * are converted to LSP JSON here (0-based positions, `file://` URIs, LSP's 1-based symbol
 * kinds and severities). VS Code is reached through `EditorLanguage` (client.ts), so this
 * is tested without it. Rename and code-action edits are only returned: the server applies
 * them after the user's permission, like any edit.
 */

import { type CodeDiagnostic, toLspDiagnostic } from './editorRequests';
import type { Diagnostic, LanguageFeatureParams, Position, Range } from './protocol';

/** A `vscode.Uri`, or anything that prints as a URI. */
export interface CodeUri {
  toString(): string;
}

export interface CodeRange {
  start: Position;
  end: Position;
}

export interface CodeLocation {
  uri: CodeUri;
  range: CodeRange;
}

export interface CodeLocationLink {
  targetUri: CodeUri;
  targetRange: CodeRange;
  targetSelectionRange?: CodeRange;
  originSelectionRange?: CodeRange;
}

export type CodeMarked = string | { value: string; language?: string };

export interface CodeHover {
  contents: readonly CodeMarked[];
  range?: CodeRange;
}

export interface CodeDocumentSymbol {
  name: string;
  detail?: string;
  kind: number;
  range: CodeRange;
  selectionRange: CodeRange;
  children?: readonly CodeDocumentSymbol[];
}

export interface CodeSymbolInformation {
  name: string;
  kind: number;
  containerName?: string;
  location: CodeLocation;
}

export interface CodeTextEdit {
  range: CodeRange;
  newText: string;
}

export interface CodeWorkspaceEdit {
  entries(): Array<[CodeUri, CodeTextEdit[]]>;
}

export interface CodeCommand {
  title: string;
  command: string;
}

export interface CodeAction {
  title: string;
  kind?: { value: string };
  diagnostics?: readonly CodeDiagnostic[];
  isPreferred?: boolean;
  disabled?: { reason: string };
  edit?: CodeWorkspaceEdit;
  command?: CodeCommand | string;
}

/** What VS Code answers, through `vscode.commands.executeCommand` (see client.ts). */
export interface EditorLanguage {
  definition(uri: string, at: Position): Thenable<ReadonlyArray<CodeLocation | CodeLocationLink> | undefined>;
  references(uri: string, at: Position): Thenable<readonly CodeLocation[] | undefined>;
  hover(uri: string, at: Position): Thenable<readonly CodeHover[] | undefined>;
  documentSymbols(uri: string): Thenable<ReadonlyArray<CodeDocumentSymbol | CodeSymbolInformation> | undefined>;
  workspaceSymbols(query: string): Thenable<readonly CodeSymbolInformation[] | undefined>;
  rename(uri: string, at: Position, newName: string): Thenable<CodeWorkspaceEdit | undefined>;
  codeActions(uri: string, range: Range): Thenable<ReadonlyArray<CodeAction | CodeCommand> | undefined>;
  /** Every file's diagnostics (no uri), or one file's. */
  diagnostics(uri?: string): Array<[string, readonly CodeDiagnostic[]]>;
}

type Json = Record<string, unknown>;

export function toLspRange(r: CodeRange): Range {
  return {
    start: { line: r.start.line, character: r.start.character },
    end: { line: r.end.line, character: r.end.character },
  };
}

export function toLspLocation(loc: CodeLocation | CodeLocationLink): Json {
  if ('targetUri' in loc) {
    return { uri: loc.targetUri.toString(), range: toLspRange(loc.targetSelectionRange ?? loc.targetRange) };
  }
  return { uri: loc.uri.toString(), range: toLspRange(loc.range) };
}

/** vscode.SymbolKind is 0-based (File = 0), LSP's is 1-based (File = 1). */
export function toLspSymbolKind(kind: number): number {
  return Number.isInteger(kind) && kind >= 0 && kind <= 25 ? kind + 1 : 13; // else Variable
}

export function toLspHover(hovers: readonly CodeHover[]): Json | null {
  const parts = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value)));
  const value = parts.filter((p) => p.trim()).join('\n\n---\n\n');
  return value ? { contents: { kind: 'markdown', value } } : null;
}

export function toLspDocumentSymbol(s: CodeDocumentSymbol | CodeSymbolInformation): Json {
  if ('location' in s) {
    return toLspSymbolInformation(s);
  }
  const out: Json = {
    name: s.name,
    kind: toLspSymbolKind(s.kind),
    range: toLspRange(s.range),
    selectionRange: toLspRange(s.selectionRange),
    children: (s.children ?? []).map(toLspDocumentSymbol),
  };
  if (s.detail) {
    out.detail = s.detail;
  }
  return out;
}

export function toLspSymbolInformation(s: CodeSymbolInformation): Json {
  const out: Json = { name: s.name, kind: toLspSymbolKind(s.kind), location: toLspLocation(s.location) };
  if (s.containerName) {
    out.containerName = s.containerName;
  }
  return out;
}

export function toLspWorkspaceEdit(edit: CodeWorkspaceEdit): Json {
  const changes: Record<string, Json[]> = {};
  for (const [uri, edits] of edit.entries()) {
    const key = uri.toString();
    changes[key] = [...(changes[key] ?? []), ...edits.map((e) => ({ range: toLspRange(e.range), newText: e.newText }))];
  }
  return { changes };
}

export function toLspCodeAction(action: CodeAction | CodeCommand): Json {
  if (typeof action.command === 'string') {
    return { title: action.title, command: action.command }; // a bare Command (a CodeAction's is an object)
  }
  const a = action as CodeAction;
  const out: Json = { title: a.title };
  if (a.kind?.value) {
    out.kind = a.kind.value;
  }
  if (a.diagnostics?.length) {
    out.diagnostics = a.diagnostics.map(toLspDiagnostic);
  }
  if (a.isPreferred) {
    out.isPreferred = true;
  }
  if (a.disabled) {
    out.disabled = { reason: a.disabled.reason };
  }
  if (a.edit) {
    out.edit = toLspWorkspaceEdit(a.edit);
  }
  if (a.command && typeof a.command === 'object') {
    // its arguments are VS Code objects: the server never runs editor commands anyway
    out.command = { title: a.command.title, command: a.command.command };
  }
  return out;
}

/** lsp-agent's own "ask the agent" actions: not a fix for the agent to apply. */
function isOurs(action: CodeAction | CodeCommand): boolean {
  const command = typeof action.command === 'string' ? action.command : action.command?.command;
  return command?.startsWith('lspAgent.') ?? false;
}

function diagnosticsOf(found: Array<[string, readonly CodeDiagnostic[]]>): Diagnostic[] {
  return found.flatMap(([, ds]) => ds.map(toLspDiagnostic));
}

function position(params: Json): Position {
  const at = params.position as Position | undefined;
  if (!at || !Number.isInteger(at.line) || !Number.isInteger(at.character)) {
    throw new Error('params.position must be { line, character }');
  }
  return at;
}

function documentUri(params: Json): string {
  const doc = params.textDocument as { uri?: unknown } | undefined;
  if (!doc || typeof doc.uri !== 'string') {
    throw new Error('params.textDocument.uri must be a string');
  }
  return doc.uri;
}

/** The LSP result of `method`; throws (an error answer) for what it cannot do. */
export async function answerLanguageFeature(request: LanguageFeatureParams, editor: EditorLanguage): Promise<unknown> {
  const params = (request?.params ?? {}) as Json;
  switch (request?.method) {
    case 'textDocument/definition':
      return ((await editor.definition(documentUri(params), position(params))) ?? []).map(toLspLocation);
    case 'textDocument/references':
      return ((await editor.references(documentUri(params), position(params))) ?? []).map(toLspLocation);
    case 'textDocument/hover':
      return toLspHover((await editor.hover(documentUri(params), position(params))) ?? []);
    case 'textDocument/documentSymbol':
      return ((await editor.documentSymbols(documentUri(params))) ?? []).map(toLspDocumentSymbol);
    case 'workspace/symbol':
      return ((await editor.workspaceSymbols(String(params.query ?? ''))) ?? []).map(toLspSymbolInformation);
    case 'textDocument/rename': {
      const edit = await editor.rename(documentUri(params), position(params), String(params.newName ?? ''));
      return edit ? toLspWorkspaceEdit(edit) : null;
    }
    case 'textDocument/codeAction': {
      const range = params.range as Range | undefined;
      if (!range?.start || !range.end) {
        throw new Error('params.range must be { start, end }');
      }
      const actions = (await editor.codeActions(documentUri(params), range)) ?? [];
      return actions.filter((a) => !isOurs(a)).map(toLspCodeAction);
    }
    case 'codeAction/resolve':
      return params; // VS Code resolved the actions' edits when it listed them
    case 'textDocument/diagnostic':
      return { kind: 'full', items: diagnosticsOf(editor.diagnostics(documentUri(params))) };
    case 'workspace/diagnostic':
      return {
        items: editor
          .diagnostics()
          .filter(([uri, ds]) => uri.startsWith('file:') && ds.length > 0)
          .map(([uri, ds]) => ({ uri, kind: 'full', version: null, items: ds.map(toLspDiagnostic) })),
      };
    default:
      throw new Error(`lsp-agent: cannot answer ${String(request?.method)}`);
  }
}
