import { describe, expect, it } from 'vitest';
import { activeToken, applySuggestion, commandSuggestions, mentionOf, mentionSuggestions } from '../../src/promptInput';
import type { SlashCommand } from '../../src/protocol';

const COMMANDS: SlashCommand[] = [
  { name: 'compact', description: 'Summarize', source: 'builtin' },
  { name: 'clear', description: 'Afresh', source: 'builtin' },
  { name: 'review', description: 'Review a file', source: 'user', hint: 'FILE' },
];

describe('the ask box completion', () => {
  it('completes a command only at the start, before any space', () => {
    expect(activeToken('/co')).toEqual({ kind: 'command', start: 0, text: 'co' });
    expect(activeToken('/review now')).toBeUndefined();
    expect(activeToken('say /co')).toBeUndefined();
    expect(commandSuggestions('c', COMMANDS).map((s) => s.insert)).toEqual(['/compact ', '/clear ']);
    expect(commandSuggestions('REV', COMMANDS)[0]).toMatchObject({ label: '/review FILE', description: 'Review a file (user)' });
  });

  it('completes a mention at the end, never inside an e-mail address', () => {
    expect(activeToken('look at @src/a')).toEqual({ kind: 'mention', start: 8, text: 'src/a' });
    expect(activeToken('@')).toEqual({ kind: 'mention', start: 0, text: '' });
    expect(activeToken('mail me@host')).toBeUndefined();
    expect(activeToken('@a.py and more')).toBeUndefined();
  });

  it('spells mentions as the server reads them, quoting what needs it', () => {
    expect(mentionOf('src/a.py')).toBe('@src/a.py');
    expect(mentionOf('my notes.md')).toBe('@"my notes.md"');
    expect(mentionOf('say "hi".txt')).toBeUndefined();
    const files = ['lib/deep/app_test.py', 'app.py', 'src/app.py', 'README.md', 'bad"name'];
    expect(mentionSuggestions('app', files).map((s) => s.label)).toEqual(['app.py', 'src/app.py', 'lib/deep/app_test.py']);
    expect(mentionSuggestions('', ['bad"name'])).toEqual([]);
    expect(mentionSuggestions('', Array.from({ length: 500 }, (_, i) => `f${i}`))).toHaveLength(50);
  });

  it('replaces only the token', () => {
    const value = 'explain @sr';
    const token = activeToken(value)!;
    expect(applySuggestion(value, token, { label: 'src/a.py', insert: '@src/a.py ' })).toBe('explain @src/a.py ');
  });
});
