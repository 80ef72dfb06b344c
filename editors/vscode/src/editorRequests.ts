/**
 * The server -> client requests the editor answers besides permissions:
 * `agent/getDiagnostics` (everything the editor's language servers report, as LSP
 * diagnostics: 0-based, file:// URIs, LSP severities) and `agent/saveDocuments`.
 * VS Code is reached through small injected interfaces, so this is tested without it.
 */

import type {
  Diagnostic,
  GetDiagnosticsParams,
  GetDiagnosticsResult,
  SaveDocumentsParams,
  SaveDocumentsResult,
} from './protocol';

/** The shape of a `vscode.Diagnostic` (its severity is 0-based: Error = 0 … Hint = 3). */
export interface CodeDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
  severity: number;
  source?: string;
  code?: string | number | { value: string | number; target?: unknown };
  tags?: readonly number[];
}

/** vscode.DiagnosticSeverity -> LSP DiagnosticSeverity (Error 1, Warning 2, Information 3, Hint 4). */
export function toLspSeverity(severity: number): number {
  return Number.isInteger(severity) && severity >= 0 && severity <= 3 ? severity + 1 : 1;
}

export function toLspDiagnostic(d: CodeDiagnostic): Diagnostic {
  const out: Diagnostic = {
    range: {
      start: { line: d.range.start.line, character: d.range.start.character },
      end: { line: d.range.end.line, character: d.range.end.character },
    },
    message: d.message,
    severity: toLspSeverity(d.severity),
  };
  if (d.source) {
    out.source = d.source;
  }
  if (d.code !== undefined && d.code !== null) {
    out.code = typeof d.code === 'object' ? d.code.value : d.code;
  }
  if (d.tags?.length) {
    out.tags = [...d.tags];
  }
  return out;
}

export interface DiagnosticsSource {
  /** Every file's diagnostics, keyed by URI string (VS Code's spelling). */
  all(): Array<[string, readonly CodeDiagnostic[]]>;
  /** One document's diagnostics. */
  of(uri: string): readonly CodeDiagnostic[];
}

export function getDiagnostics(params: GetDiagnosticsParams | null | undefined, source: DiagnosticsSource): GetDiagnosticsResult {
  const uris = params?.uris;
  if (uris && uris.length) {
    // Answer in the server's spelling of each URI, so it finds its own keys again.
    return { items: uris.map((uri) => ({ uri, diagnostics: source.of(uri).map(toLspDiagnostic) })) };
  }
  const items = source
    .all()
    .filter(([uri, diagnostics]) => uri.startsWith('file:') && diagnostics.length > 0)
    .map(([uri, diagnostics]) => ({ uri, diagnostics: diagnostics.map(toLspDiagnostic) }));
  return { items };
}

export interface SavableDocument {
  readonly isDirty: boolean;
  save(): PromiseLike<boolean>;
}

export interface DocumentFinder {
  /** The open document with this URI, if any. */
  find(uri: string): SavableDocument | undefined;
}

/**
 * Save the open documents among `uris`. A URI counts as saved when its document was saved,
 * is not dirty, or is not open (the disk already has its text).
 */
export async function saveDocuments(params: SaveDocumentsParams, documents: DocumentFinder): Promise<SaveDocumentsResult> {
  const saved: string[] = [];
  for (const uri of params.uris ?? []) {
    const doc = documents.find(uri);
    if (!doc || !doc.isDirty) {
      saved.push(uri);
      continue;
    }
    try {
      if (await doc.save()) {
        saved.push(uri);
      }
    } catch {
      // not saved: the server tells the model the shell sees the disk's version
    }
  }
  return { saved };
}
