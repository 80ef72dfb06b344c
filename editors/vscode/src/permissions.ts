/**
 * `agent/session/request_permission`: ask the user with Allow once / Always / Reject (and
 * "Show diff" for edits), answer with the chosen option. Dismissed, or cancelled by the
 * server, is `{outcome: "cancelled"}`; the server approves only an allow_* option.
 * The UI is injected, so the logic is tested without VS Code.
 */

import type {
  DiffItem,
  PermissionOption,
  PermissionOptionKind,
  RequestPermissionParams,
  RequestPermissionResult,
} from './protocol';

export const LABELS: Record<PermissionOptionKind, string> = {
  allow_once: 'Allow once',
  allow_always: 'Always',
  reject_once: 'Reject',
  reject_always: 'Reject always',
};

export const SHOW_DIFF = 'Show diff';

export interface PermissionUI {
  /** A non-modal warning with these buttons; undefined when dismissed. */
  ask(message: string, choices: string[]): PromiseLike<string | undefined>;
  /** Open the proposed change in the diff editor. */
  showDiff(diff: DiffItem): PromiseLike<unknown>;
}

/** The part of a CancellationToken used here (vscode-jsonrpc's and VS Code's both fit). */
export interface Cancellation {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): { dispose(): unknown };
}

export const CANCELLED: RequestPermissionResult = { outcome: { outcome: 'cancelled' } };

/** The button label of each option: the kind's label, else the server's name. */
export function optionLabels(options: PermissionOption[]): Map<string, PermissionOption> {
  const labels = new Map<string, PermissionOption>();
  for (const option of options) {
    let label = LABELS[option.kind] ?? option.name;
    if (labels.has(label) || label === SHOW_DIFF) {
      label = option.name;
    }
    if (!labels.has(label)) {
      labels.set(label, option);
    }
  }
  return labels;
}

export function permissionMessage(params: RequestPermissionParams): string {
  const call = params.toolCall;
  let message = `lsp-agent wants to: ${call.title}`;
  const command = call.rawInput && typeof call.rawInput.command === 'string' ? call.rawInput.command : undefined;
  if (call.kind === 'execute' && command && !call.title.includes(command)) {
    message += ` — \`${command}\``;
  }
  return message;
}

export function diffsOf(params: RequestPermissionParams): DiffItem[] {
  return (params.toolCall.content ?? []).filter((c): c is DiffItem => c.type === 'diff');
}

export async function askPermission(
  params: RequestPermissionParams,
  ui: PermissionUI,
  token?: Cancellation,
): Promise<RequestPermissionResult> {
  const labels = optionLabels(params.options);
  const diffs = diffsOf(params);
  const choices = [...labels.keys()];
  if (diffs.length) {
    choices.push(SHOW_DIFF);
  }
  const message = permissionMessage(params);
  for (;;) {
    if (token?.isCancellationRequested) {
      return CANCELLED;
    }
    const answer = await untilCancelled(ui.ask(message, choices), token);
    if (answer === undefined) {
      return CANCELLED;
    }
    if (answer === SHOW_DIFF) {
      for (const diff of diffs) {
        await ui.showDiff(diff);
      }
      continue; // then ask again
    }
    const option = labels.get(answer);
    if (!option) {
      return CANCELLED;
    }
    return { outcome: { outcome: 'selected', optionId: option.optionId } };
  }
}

/** The answer, or undefined as soon as the server cancels the request. */
function untilCancelled<T>(answer: PromiseLike<T | undefined>, token?: Cancellation): Promise<T | undefined> {
  if (!token) {
    return Promise.resolve(answer);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const listener = token.onCancellationRequested(() => {
      listener.dispose();
      resolve(undefined);
    });
    Promise.resolve(answer).then(
      (value) => {
        listener.dispose();
        resolve(value);
      },
      (error: unknown) => {
        listener.dispose();
        reject(error);
      },
    );
  });
}
