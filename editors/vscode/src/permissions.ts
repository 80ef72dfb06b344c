/**
 * `agent/session/request_permission`: ask the user with Allow once / Always / Reject (and
 * "Show diff" for edits, "Show command" for long or multi-line commands), answer with the
 * chosen option. The message is the server's description: the whole command, why it needs
 * approval, and what "Always" would allow. Dismissed, or cancelled by the
 * server, is `{outcome: "cancelled"}`; the server approves only an allow_* option.
 * The UI is injected, so the logic is tested without VS Code.
 */

import type {
  ContentItem,
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
export const SHOW_COMMAND = 'Show command';
/** A message longer than this, or with several lines, also offers Show command. */
export const INLINE_LIMIT = 300;

export interface PermissionUI {
  /** A non-modal warning with these buttons; undefined when dismissed. */
  ask(message: string, choices: string[]): PromiseLike<string | undefined>;
  /** Open the proposed change in the diff editor. */
  showDiff(diff: DiffItem): PromiseLike<unknown>;
  /** Show the whole text (the command and why it is asked) in a read-only document. */
  showText?(text: string): PromiseLike<unknown>;
}

/** The part of a CancellationToken used here (vscode-jsonrpc's and VS Code's both fit). */
export interface Cancellation {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): { dispose(): unknown };
}

export const CANCELLED: RequestPermissionResult = { outcome: { outcome: 'cancelled' } };

/**
 * The button label of each option: the kind's label, else the server's name. An "always"
 * option whose name says what it allows ("Always allow bash(npm test:*)") keeps that name:
 * the user sees what is remembered before choosing it.
 */
export function optionLabels(options: PermissionOption[]): Map<string, PermissionOption> {
  const labels = new Map<string, PermissionOption>();
  for (const option of options) {
    let label = LABELS[option.kind] ?? option.name;
    if (option.kind === 'allow_always' && option.name.startsWith('Always allow ')) {
      label = option.name;
    }
    if (labels.has(label) || label === SHOW_DIFF || label === SHOW_COMMAND) {
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
  const described = (call.content ?? []).find((c): c is ContentItem => c.type === 'content');
  if (described) {
    return described.content.text; // the server's text: the whole command, nothing cut
  }
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
  const long = message.includes('\n') || message.length > INLINE_LIMIT;
  if (long && ui.showText && params.toolCall.kind === 'execute') {
    choices.push(SHOW_COMMAND);
  }
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
    if (answer === SHOW_COMMAND) {
      await ui.showText?.(message);
      continue;
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
