/**
 * A small stand-in for the `vscode` module (aliased in vitest.config.ts): the classes and
 * functions the extension uses, with `vi.fn()` where a test steers or observes the UI.
 * `resetVscodeMock()` restores the defaults between tests.
 */

import { vi } from 'vitest';

export class Disposable {
  constructor(private readonly callback: () => unknown = () => undefined) {}
  static from(...items: Array<{ dispose(): unknown }>): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    this.callback();
  }
}

export class EventEmitter<T> {
  private listeners = new Set<(e: T) => unknown>();
  event = (listener: (e: T) => unknown) => {
    this.listeners.add(listener);
    return new Disposable(() => this.listeners.delete(listener));
  };
  fire(e: T): void {
    this.listeners.forEach((l) => l(e));
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    if (typeof a === 'number') {
      this.start = new Position(a, b as number);
      this.end = new Position(c!, d!);
    } else {
      this.start = a;
      this.end = b as Position;
    }
  }
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

export class Selection extends Range {}

export enum DiagnosticSeverity {
  Error = 0,
  Warning = 1,
  Information = 2,
  Hint = 3,
}

export enum DiagnosticTag {
  Unnecessary = 1,
  Deprecated = 2,
}

export class Diagnostic {
  source?: string;
  code?: string | number | { value: string | number; target: Uri };
  tags?: DiagnosticTag[];
  constructor(
    public range: Range,
    public message: string,
    public severity: DiagnosticSeverity = DiagnosticSeverity.Error,
  ) {}
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}
  static file(path: string): Uri {
    return new Uri('file', '', path, '', '');
  }
  static parse(value: string): Uri {
    const match = /^([a-z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/i.exec(value);
    if (!match) {
      throw new Error(`bad uri ${value}`);
    }
    return new Uri(match[1]!, match[2] ?? '', decodeURIComponent(match[3] ?? ''), match[4] ?? '', match[5] ?? '');
  }
  static from(parts: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
    return new Uri(parts.scheme, parts.authority ?? '', parts.path ?? '', parts.query ?? '', parts.fragment ?? '');
  }
  static joinPath(base: Uri, ...segments: string[]): Uri {
    return new Uri(base.scheme, base.authority, [base.path, ...segments].join('/').replace(/\/+/g, '/'), '', '');
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    const encoded = this.path.split('/').map(encodeURIComponent).join('/');
    return `${this.scheme}://${this.authority}${encoded}${this.query ? `?${this.query}` : ''}`;
  }
}

export class CodeLens {
  constructor(
    public range: Range,
    public command?: { title: string; command: string; arguments?: unknown[]; tooltip?: string },
  ) {}
}

export class TabInputTextDiff {
  constructor(
    readonly original: Uri,
    readonly modified: Uri,
  ) {}
}

export interface FakeTab {
  label: string;
  input: unknown;
}

export interface FakeTabGroup {
  tabs: FakeTab[];
  activeTab?: FakeTab;
}

/**
 * `window.tabGroups`: `vscode.diff` opens a tab in the first group; `closeByUser` is the user
 * closing one (onDidChangeTabs fires after the tab is gone, as in VS Code); `close` is the
 * extension closing them.
 */
export class FakeTabGroups {
  all: FakeTabGroup[] = [{ tabs: [] }];
  private changed = new EventEmitter<{ opened: FakeTab[]; closed: FakeTab[]; changed: FakeTab[] }>();
  onDidChangeTabs = this.changed.event;
  onDidChangeTabGroups = () => new Disposable();
  get activeTabGroup(): FakeTabGroup {
    return this.all[0]!;
  }
  get tabs(): FakeTab[] {
    return this.all.flatMap((g) => g.tabs);
  }
  openDiff(original: Uri, modified: Uri, label: string): FakeTab {
    const tab = { label, input: new TabInputTextDiff(original, modified) };
    this.activeTabGroup.tabs.push(tab);
    this.activeTabGroup.activeTab = tab;
    this.changed.fire({ opened: [tab], closed: [], changed: [] });
    return tab;
  }
  private remove(tabs: FakeTab[]): void {
    for (const group of this.all) {
      group.tabs = group.tabs.filter((t) => !tabs.includes(t));
      if (group.activeTab && tabs.includes(group.activeTab)) {
        group.activeTab = group.tabs.at(-1);
      }
    }
    this.changed.fire({ opened: [], closed: tabs, changed: [] });
  }
  closeByUser(tab: FakeTab): void {
    this.remove([tab]);
  }
  close = vi.fn(async (tabs: FakeTab | FakeTab[]) => {
    this.remove(Array.isArray(tabs) ? tabs : [tabs]);
    return true;
  });
  reset(): void {
    this.all = [{ tabs: [] }];
    this.close.mockClear();
  }
}

export const tabGroups = new FakeTabGroups();

export class ThemeIcon {
  constructor(readonly id: string) {}
}

export class MarkdownString {
  constructor(public value = '') {}
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export enum ViewColumn {
  Active = -1,
  One = 1,
}

export class CancellationTokenSource {
  private emitter = new EventEmitter<void>();
  token = {
    isCancellationRequested: false,
    onCancellationRequested: this.emitter.event,
  };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

export interface FakeStatusBarItem {
  text: string;
  tooltip?: string;
  command?: string;
  name?: string;
  show: () => void;
  dispose: () => void;
}

export const statusBarItems: FakeStatusBarItem[] = [];

/** Any `onDid…`/`onWill…` event the mock lacks subscribes to nothing. */
function withEvents<T extends object>(target: T): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      if (typeof key === 'string' && !(key in obj) && /^on[A-Z]/.test(key)) {
        return () => new Disposable();
      }
      return Reflect.get(obj, key, receiver);
    },
  });
}

function logChannel() {
  return {
    info: vi.fn(),
    warn: vi.fn(),
    error: vi.fn(),
    debug: vi.fn(),
    trace: vi.fn(),
    appendLine: vi.fn(),
    append: vi.fn(),
    show: vi.fn(),
    dispose: vi.fn(),
  };
}

/** A QuickPick a test drives: `type` fires onDidChangeValue, `enter` onDidAccept. */
export class FakeQuickPick<T = unknown> {
  value = '';
  items: T[] = [];
  activeItems: T[] = [];
  selectedItems: T[] = [];
  title?: string;
  placeholder?: string;
  ignoreFocusOut = false;
  matchOnDescription = false;
  shown = false;
  disposed = false;
  private changed = new EventEmitter<string>();
  private accepted = new EventEmitter<void>();
  private hidden = new EventEmitter<void>();
  onDidChangeValue = this.changed.event;
  onDidAccept = this.accepted.event;
  onDidHide = this.hidden.event;
  show(): void {
    this.shown = true;
  }
  hide(): void {
    this.hidden.fire();
  }
  dispose(): void {
    this.disposed = true;
  }
  type(value: string): void {
    this.value = value;
    this.changed.fire(value);
  }
  enter(item?: T): void {
    this.activeItems = item ? [item] : this.items.slice(0, 1);
    this.accepted.fire();
  }
}

export const quickPicks: FakeQuickPick[] = [];

export const window = withEvents({
  createQuickPick: vi.fn(() => {
    const pick = new FakeQuickPick();
    quickPicks.push(pick);
    return pick;
  }),
  showWarningMessage: vi.fn(),
  showInformationMessage: vi.fn(),
  showErrorMessage: vi.fn(),
  showInputBox: vi.fn(),
  showQuickPick: vi.fn(),
  showTextDocument: vi.fn(),
  activeTextEditor: undefined as unknown,
  createOutputChannel: vi.fn(() => logChannel()),
  createStatusBarItem: vi.fn(() => {
    const item: FakeStatusBarItem = { text: '', show: vi.fn(), dispose: vi.fn() };
    statusBarItems.push(item);
    return item;
  }),
  registerWebviewViewProvider: vi.fn(() => new Disposable()),
  withProgress: vi.fn(),
  tabGroups,
});

/** The default `executeCommand`: `vscode.diff` opens a diff tab; everything else does nothing. */
async function runCommand(...args: unknown[]): Promise<undefined> {
  if (args[0] === 'vscode.diff') {
    tabGroups.openDiff(args[1] as Uri, args[2] as Uri, String(args[3]));
  }
  return undefined;
}

export const commands = {
  registerCommand: vi.fn((_id: string, _run: unknown) => new Disposable()),
  executeCommand: vi.fn(runCommand),
};

export interface FakeConfigValue {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** Settings as `inspect()` returns them, keyed by full name (`lspAgent.model.baseUrl`). */
export const configuration = new Map<string, FakeConfigValue>();

function getConfiguration(section?: string) {
  const full = (key: string) => (section ? `${section}.${key}` : key);
  return {
    get<T>(key: string, fallback?: T): T | undefined {
      const v = configuration.get(full(key));
      const value = v?.workspaceFolderValue ?? v?.workspaceValue ?? v?.globalValue ?? v?.defaultValue;
      return (value ?? fallback) as T | undefined;
    },
    inspect(key: string) {
      const v = configuration.get(full(key));
      return v ? { key: full(key), ...v } : undefined;
    },
    has(key: string) {
      return configuration.has(full(key));
    },
    update: vi.fn(),
  };
}

export const workspace = withEvents({
  isTrusted: true,
  workspaceFolders: undefined as unknown,
  textDocuments: [] as unknown[],
  getConfiguration: vi.fn(getConfiguration),
  getWorkspaceFolder: vi.fn(() => undefined),
  asRelativePath: vi.fn((p: unknown) => String(p)),
  findFiles: vi.fn(async (): Promise<unknown[]> => []),
  registerTextDocumentContentProvider: vi.fn(() => new Disposable()),
  onDidChangeConfiguration: vi.fn(() => new Disposable()),
  save: vi.fn(),
});

export const languages = withEvents({
  getDiagnostics: vi.fn((): unknown => []),
  registerCodeLensProvider: vi.fn(() => new Disposable()),
});

export const env = { appName: 'Visual Studio Code (mock)' };
export const version = '1.100.0';

export function resetVscodeMock(): void {
  for (const fn of [
    window.showWarningMessage,
    window.showInformationMessage,
    window.showErrorMessage,
    window.showInputBox,
    window.showQuickPick,
    window.showTextDocument,
    commands.executeCommand,
    commands.registerCommand,
    languages.getDiagnostics,
  ]) {
    fn.mockReset();
  }
  commands.executeCommand.mockImplementation(runCommand);
  tabGroups.reset();
  commands.registerCommand.mockImplementation(() => new Disposable());
  languages.getDiagnostics.mockImplementation(() => []);
  window.activeTextEditor = undefined;
  quickPicks.length = 0;
  workspace.isTrusted = true;
  workspace.workspaceFolders = undefined;
  workspace.textDocuments = [];
  configuration.clear();
  statusBarItems.length = 0;
}
