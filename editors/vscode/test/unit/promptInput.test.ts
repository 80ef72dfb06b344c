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
    expect(mentionSuggestions('x', ['bad"name'])).toEqual([]);
    expect(mentionSuggestions('', Array.from({ length: 500 }, (_, i) => `f${i}`))).toHaveLength(50);
  });

  it('replaces only the token', () => {
    const value = 'explain @sr';
    const token = activeToken(value)!;
    expect(applySuggestion(value, token, { label: 'src/a.py', insert: '@src/a.py ' })).toBe('explain @src/a.py ');
  });

  it('offers @problems and @selection before the files', () => {
    expect(mentionSuggestions('', ['a.py']).map((s) => s.insert)).toEqual(['@problems ', '@selection ', '@a.py ']);
    expect(mentionSuggestions('sel', ['selection.md']).map((s) => s.insert)).toEqual(['@selection ', '@selection.md ']);
    expect(mentionSuggestions('pro', [])[0]).toMatchObject({ label: '@problems', description: expect.stringContaining('diagnostics') });
  });

  it('offers a line range after a file: the selection, or the one typed', () => {
    const files = ['src/a.py', 'b.py'];
    const selection = { path: 'src/a.py', first: 10, last: 20 };
    // right after the file, and when its name is followed by ':'
    expect(mentionSuggestions('a.py', files, selection).map((s) => s.insert)).toEqual(['@src/a.py ', '@src/a.py:10-20 ']);
    expect(mentionSuggestions('src/a.py:', files, selection)).toEqual([{ label: 'src/a.py:10-20', description: 'The selected lines', insert: '@src/a.py:10-20 ' }]);
    expect(mentionSuggestions('b.py:3-7', files, selection)).toEqual([{ label: 'b.py:3-7', description: 'Lines 3-7', insert: '@b.py:3-7 ' }]);
    expect(mentionSuggestions('b.py:12', files).map((s) => s.insert)).toEqual(['@b.py:12 ']);
    // half-typed or bad ranges only hint (the server says what is wrong with a bad one)
    for (const typed of ['b.py:', 'b.py:3-', 'b.py:0']) {
      const [hint] = mentionSuggestions(typed, files);
      expect(hint?.description).toBe('Type a line (:10) or a range (:10-20)');
      expect(hint?.insert).toBe(`@${typed}`);
    }
    // a single selected line is spelled as one line
    expect(mentionSuggestions('b.py:', files, { path: 'b.py', first: 4, last: 4 })[0]?.insert).toBe('@b.py:4 ');
    // not a known file: a plain search, no range
    expect(mentionSuggestions('nope.py:3', files)).toEqual([]);
  });
});
