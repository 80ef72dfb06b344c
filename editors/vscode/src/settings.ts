/**
 * The `lspAgent` settings: which go to the server and how.
 *
 * The server's settings are every `lspAgent.<group>.<key>` contributed in package.json except
 * the extension's own `lspAgent.server.*`. Only values the user set are sent (in
 * `initializationOptions` and as the answer to `workspace/configuration`): the contributed
 * defaults equal the server's, and sending them would hide the workspace's `.lsp-agent.toml`
 * or `[tool.lsp-agent]` and the environment, which rank below the editor's settings.
 */

import { SETTINGS_SECTION } from './protocol';

/** The extension's own settings group, never sent to the server. */
export const CLIENT_GROUP = 'server';

export interface Inspected {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** `inspect(key)` with `key` relative to the section, like `model.baseUrl`. */
export type Inspect = (key: string) => Inspected | undefined;

export interface SettingsScope {
  /** False in an untrusted workspace: restricted settings then come from the user only. */
  trusted: boolean;
  /** Full names (`lspAgent.model.baseUrl`) the workspace may not set while untrusted. */
  restricted: ReadonlySet<string>;
}

interface PackageJson {
  contributes?: { configuration?: { properties?: Record<string, unknown> } | Array<{ properties?: Record<string, unknown> }> };
  capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: string[] } };
}

function contributedProperties(pkg: PackageJson): Record<string, unknown> {
  const configuration = pkg.contributes?.configuration;
  const blocks = Array.isArray(configuration) ? configuration : configuration ? [configuration] : [];
  return Object.assign({}, ...blocks.map((b) => b.properties ?? {}));
}

/** The server's setting keys, relative to the section: `model.baseUrl`, … */
export function serverSettingKeys(pkg: PackageJson): string[] {
  const prefix = `${SETTINGS_SECTION}.`;
  return Object.keys(contributedProperties(pkg))
    .filter((name) => name.startsWith(prefix))
    .map((name) => name.slice(prefix.length))
    .filter((key) => key.split('.')[0] !== CLIENT_GROUP);
}

export function restrictedSettings(pkg: PackageJson): Set<string> {
  return new Set(pkg.capabilities?.untrustedWorkspaces?.restrictedConfigurations ?? []);
}

/** The value the user set for a key (most specific scope first), or undefined. */
export function explicitValue(inspected: Inspected | undefined, mayUseWorkspace: boolean): unknown {
  if (!inspected) {
    return undefined;
  }
  if (mayUseWorkspace) {
    if (inspected.workspaceFolderValue !== undefined) {
      return inspected.workspaceFolderValue;
    }
    if (inspected.workspaceValue !== undefined) {
      return inspected.workspaceValue;
    }
  }
  return inspected.globalValue;
}

/** The settings the user set, nested by group: `{model: {baseUrl: "…"}}`. */
export function serverSettings(keys: readonly string[], inspect: Inspect, scope: SettingsScope): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const key of keys) {
    const [group, ...rest] = key.split('.');
    if (!group || !rest.length || group === CLIENT_GROUP) {
      continue;
    }
    const full = `${SETTINGS_SECTION}.${key}`;
    const value = explicitValue(inspect(key), scope.trusted || !scope.restricted.has(full));
    if (value === undefined) {
      continue;
    }
    (out[group] ??= {})[rest.join('.')] = clone(value);
  }
  return out;
}

/** `initializationOptions`: the section under its name, as the server accepts either. */
export function initializationOptions(settings: Record<string, unknown>): Record<string, unknown> {
  return { [SETTINGS_SECTION]: settings };
}

function clone<T>(value: T): T {
  return value === null || typeof value !== 'object' ? value : (JSON.parse(JSON.stringify(value)) as T);
}

// --- the extension's own settings ------------------------------------------------

export interface ServerLaunch {
  command: string;
  args: string[];
}

export interface ClientSettings {
  command: string;
  args: string[];
  pythonPath: string;
  logLevel: string;
}

/** `${workspaceFolder}`, `${userHome}` and a leading `~` in a command or path. */
export function expandPath(value: string, workspaceFolder: string | undefined, home: string): string {
  let out = value.trim();
  if (out === '~' || out.startsWith('~/')) {
    out = home + out.slice(1);
  }
  out = out.replace(/\$\{userHome\}/g, home);
  if (workspaceFolder !== undefined) {
    out = out.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  }
  return out;
}

/**
 * How to start the server: `pythonPath -m lsp_agent <args>` when a Python is set, else
 * `<command> <args>`; args default to `serve`. vscode-languageclient appends `--stdio`.
 */
export function serverLaunch(settings: Partial<ClientSettings>, workspaceFolder: string | undefined, home: string): ServerLaunch {
  const args = settings.args && settings.args.length ? [...settings.args] : ['serve'];
  if (settings.logLevel && !args.includes('--log-level')) {
    args.push('--log-level', settings.logLevel);
  }
  const python = expandPath(settings.pythonPath ?? '', workspaceFolder, home);
  if (python) {
    return { command: python, args: ['-m', 'lsp_agent', ...args] };
  }
  const command = expandPath(settings.command || 'lsp-agent', workspaceFolder, home);
  return { command, args };
}
