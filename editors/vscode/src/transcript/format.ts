/**
 * How the transcript names things: the codicon of each tool kind, status and plan state, and
 * token counts and costs as short text. Pure (no `vscode`); re-exported by model.ts.
 */

import type { PlanEntry, ToolCallStatus, ToolKind } from '../protocol';

/** The codicon (ThemeIcon id) of each tool kind. */
export const KIND_ICON: Record<ToolKind, string> = {
  read: 'file',
  edit: 'edit',
  delete: 'trash',
  move: 'arrow-swap',
  search: 'search',
  execute: 'terminal',
  think: 'lightbulb',
  fetch: 'cloud-download',
  other: 'tools',
};

export const STATUS_ICON: Record<ToolCallStatus, string> = {
  pending: 'circle-large-outline',
  in_progress: 'loading~spin',
  completed: 'pass',
  failed: 'error',
};

export const PLAN_ICON: Record<NonNullable<PlanEntry['status']>, string> = {
  pending: 'circle-large-outline',
  in_progress: 'arrow-circle-right',
  completed: 'pass-filled',
};

export function toolIcon(kind: ToolKind | string): string {
  return KIND_ICON[kind as ToolKind] ?? KIND_ICON.other;
}

export function statusIcon(status: ToolCallStatus | string): string {
  return STATUS_ICON[status as ToolCallStatus] ?? STATUS_ICON.pending;
}

/** 950 -> "950", 12_345 -> "12.3k", 1_234_567 -> "1.23M". */
export function formatTokens(n: number): string {
  if (n < 1000) {
    return String(n);
  }
  if (n < 1_000_000) {
    return `${(n / 1000).toFixed(n < 10_000 ? 2 : 1).replace(/\.?0+$/, '')}k`;
  }
  return `${(n / 1_000_000).toFixed(2).replace(/\.?0+$/, '')}M`;
}

export function formatCost(usd: number): string {
  if (usd === 0) {
    return '$0';
  }
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}
