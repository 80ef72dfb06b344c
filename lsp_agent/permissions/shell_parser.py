"""A small POSIX-shell parser: enough structure to judge a command, not to run it.

It splits a command line into simple commands (words plus redirections) across `;`, `&&`,
`||`, `|`, `&`, newlines, subshells and braces, and parses the contents of `$(…)`, backticks,
`<(…)`/`>(…)`, `${…}` and unquoted here-documents as commands of their own.

Why not `shlex`: it cannot tell a quoted `";"` from the operator, and it does not see the
`$(…)` inside double quotes, which the shell does run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_DEPTH = 40  # nesting of substitutions and quotes; deeper input is rejected, not recursed
_BLANK = " \t"
_OPERATOR_CHARS = ";&|()<>"
_OPERATORS = (";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|")  # longest first
_REDIRECTS = ("<<<", "<<-", "&>>", "<<", "<>", "<&", ">>", ">|", ">&", "&>", "<", ">")


_PARAM_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789@*#?$!-")
_ANSI_ESCAPE = re.compile(
    r"\\(?:x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|[abeEfnrtv\\'\"?])"
)
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


def _decode_escape(esc: str) -> str:
    kind = esc[1]
    try:
        if kind == "x":
            return chr(int(esc[2:], 16))
        if kind in "uU":
            return chr(int(esc[2:], 16))
        if kind == "c":
            return chr(ord(esc[2]) & 0x1F)
        if kind.isdigit():
            return chr(int(esc[1:], 8) & 0xFF)
    except (ValueError, OverflowError):
        return "\ufffd"
    return _SIMPLE_ESCAPES.get(kind, esc)


class ShellSyntaxError(ValueError):
    """The command is not well-formed (unbalanced quotes or parentheses, too deep)."""


@dataclass
class Word:
    value: str  # quotes removed; substitutions kept as written, e.g. "$(date)"
    raw: str  # the source text
    expands: bool = False  # holds a command or process substitution
    params: bool = False  # holds a parameter or arithmetic expansion: its value is unknown


@dataclass
class Redirect:
    op: str  # e.g. ">", ">>", "2>", "&>", ">&", "<", "<<"
    target: Word
    body: str | None = None  # a here-document's text


@dataclass
class SimpleCommand:
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    nested: list[SimpleCommand] = field(default_factory=list)  # from substitutions, heredocs
    upstream: list[SimpleCommand] = field(default_factory=list)  # earlier pipeline stages

    def is_empty(self) -> bool:
        return not self.words and not self.redirects


def parse(source: str) -> list[SimpleCommand]:
    """The simple commands of `source`, in order; raises ShellSyntaxError."""
    return _Parser(source, 0).parse_all()


@dataclass
class _Heredoc:
    delimiter: str
    literal: bool  # quoted delimiter: the body is not expanded
    strip_tabs: bool
    owner: SimpleCommand
    target: Word  # marked as expanding when the body holds a substitution
    redirect: Redirect


class _Parser:
    def __init__(self, src: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ShellSyntaxError("nested too deeply")
        self.src = src
        self.pos = 0
        self.depth = depth
        self.heredocs: list[_Heredoc] = []

    def parse_all(self) -> list[SimpleCommand]:
        return self.parse_list(None, [])

    # --- commands -------------------------------------------------------------------

    def parse_list(self, closer: str | None, inherited: list[SimpleCommand]) -> list[SimpleCommand]:
        """Commands up to `closer` (consumed) or the end; `inherited` feeds pipeline context."""
        self._enter()
        out: list[SimpleCommand] = []
        pipeline: list[SimpleCommand] = list(inherited)
        stage_start = 0
        cur = SimpleCommand()

        def finish(pipe: bool) -> None:
            nonlocal cur, pipeline, stage_start
            if not cur.is_empty():
                out.append(cur)
            for cmd in out[stage_start:]:
                cmd.upstream = cmd.upstream or list(pipeline)
            pipeline = pipeline + out[stage_start:] if pipe else list(inherited)
            stage_start = len(out)
            cur = SimpleCommand()

        src = self.src
        while True:
            self._skip_blanks()
            if self.pos >= len(src):
                if closer is not None:
                    raise ShellSyntaxError(f"missing '{closer}'")
                finish(False)
                break
            c = src[self.pos]
            if c == "#":  # at a token start, so it opens a comment
                while self.pos < len(src) and src[self.pos] != "\n":
                    self.pos += 1
            elif c == "\n":
                self.pos += 1
                finish(False)
                self._read_heredocs()
            elif c == ")":
                self.pos += 1
                finish(False)
                if closer == ")":
                    break
                # A stray ")" (e.g. a `case` pattern) just separates commands: stay conservative.
            elif (
                src.startswith("((", self.pos)
                and not cur.words
                and (arithmetic := self._arithmetic()) is not None
            ):
                cur.words.append(arithmetic[0])  # `(( i << 2 ))`
                cur.nested.extend(arithmetic[1])
            elif c == "(" or (c == "{" and self._word_ends(self.pos + 1) and not cur.words):
                self.pos += 1
                if not cur.is_empty():  # `f()`: a function definition
                    finish(False)
                out.extend(self.parse_list(")" if c == "(" else "}", pipeline))
            elif (
                c == "}" and closer == c and not cur.words and self._word_ends(self.pos + 1, ";&|)")
            ):
                self.pos += 1
                finish(False)
                break
            elif (c in "<>" and src.startswith("(", self.pos + 1)) or c not in _OPERATOR_CHARS:
                word, nested = self._read_word()
                cur.nested.extend(nested)
                if word.raw.isdigit() and self._at_redirect():
                    self._read_redirect(cur, word.raw)
                else:
                    cur.words.append(word)
            elif self._at_redirect():
                self._read_redirect(cur, "")
            else:
                op = next(o for o in _OPERATORS if src.startswith(o, self.pos))
                self.pos += len(op)
                finish(op in ("|", "|&"))
        self.depth -= 1
        return out

    def _at_redirect(self) -> bool:
        src, pos = self.src, self.pos
        return any(src.startswith(r, pos) for r in _REDIRECTS) and not src.startswith("(", pos + 1)

    def _read_redirect(self, cmd: SimpleCommand, fd: str) -> None:
        op = next(r for r in _REDIRECTS if self.src.startswith(r, self.pos))
        self.pos += len(op)
        self._skip_blanks()
        rest = self.src[self.pos : self.pos + 2]
        if not rest or (rest[0] in "\n;&|()<>" and rest not in ("<(", ">(")):
            raise ShellSyntaxError(f"'{op}' needs a target")
        target, nested = self._read_word()
        cmd.nested.extend(nested)
        redirect = Redirect(fd + op, target)
        cmd.redirects.append(redirect)
        if op in ("<<", "<<-"):
            literal = any(q in target.raw for q in "'\"\\")
            doc = _Heredoc(target.value, literal, op == "<<-", cmd, target, redirect)
            self.heredocs.append(doc)

    def _read_heredocs(self) -> None:
        """Bodies start after the newline that ends their command; unquoted ones expand."""
        pending, self.heredocs = self.heredocs, []
        for doc in pending:
            start = self.pos
            body_end = -1
            while self.pos < len(self.src):
                line_end = self.src.find("\n", self.pos)
                line_end = len(self.src) if line_end < 0 else line_end
                line = self.src[self.pos : line_end]
                if (line.lstrip("\t") if doc.strip_tabs else line) == doc.delimiter:
                    body_end = self.pos
                    self.pos = min(line_end + 1, len(self.src))
                    break
                self.pos = line_end + 1
            self.pos = min(self.pos, len(self.src))
            if body_end < 0:  # bash would run to the end; a misread `<<` must not hide commands
                raise ShellSyntaxError(f"here-document {doc.delimiter!r} is not terminated")
            doc.redirect.body = self.src[start:body_end]
            if not doc.literal:
                body = _Parser(self.src[start:body_end], self.depth + 1)
                sink = Word("", "")
                nested: list[SimpleCommand] = []
                body.scan_double(None, sink, nested)
                doc.owner.nested.extend(nested)
                doc.target.expands = doc.target.expands or sink.expands
                doc.target.params = doc.target.params or sink.params

    # --- words ------------------------------------------------------------------------

    def _read_word(self) -> tuple[Word, list[SimpleCommand]]:
        src = self.src
        start = self.pos
        word = Word("", "")
        nested: list[SimpleCommand] = []
        while self.pos < len(src):
            c = src[self.pos]
            if c in _BLANK or c == "\n":
                break
            if c in "<>" and src.startswith("(", self.pos + 1):
                self.pos += 2
                self._substitution(word, nested, src[self.pos - 2 : self.pos])
            elif c in _OPERATOR_CHARS:
                break
            elif c == "\\":
                if src.startswith("\n", self.pos + 1):
                    self.pos += 2
                else:
                    word.value += src[self.pos + 1 : self.pos + 2] or "\\"
                    self.pos += 2
            elif c == "'":
                end = src.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("unbalanced single quote")
                word.value += src[self.pos + 1 : end]
                self.pos = end + 1
            elif c == '"' or src.startswith('$"', self.pos):
                self.pos += 1 if c == '"' else 2
                self.scan_double('"', word, nested)
            elif src.startswith("$'", self.pos):
                self._ansi_c(word)
            else:
                self._dollar_or_char(word, nested)
        word.raw = src[start : self.pos]
        return word, nested

    def scan_double(self, closer: str | None, word: Word, nested: list[SimpleCommand]) -> None:
        """Inside double quotes (or an unquoted heredoc body, closer None): $ and ` still work."""
        self._enter()
        src = self.src
        while True:
            if self.pos >= len(src):
                if closer is not None:
                    raise ShellSyntaxError(f"missing closing {closer}")
                break
            c = src[self.pos]
            if c == closer:
                self.pos += 1
                break
            if c == "\\" and self.pos + 1 < len(src):
                nxt = src[self.pos + 1]
                word.value += nxt if nxt in '$`"\\' else ("" if nxt == "\n" else c + nxt)
                self.pos += 2
            else:
                self._dollar_or_char(word, nested)
        self.depth -= 1

    def _dollar_or_char(self, word: Word, nested: list[SimpleCommand]) -> None:
        src = self.src
        if src.startswith("$((", self.pos) and (arithmetic := self._arithmetic()) is not None:
            word.value += arithmetic[0].value
            word.expands = word.expands or arithmetic[0].expands
            word.params = True
            nested.extend(arithmetic[1])
        elif src.startswith("$(", self.pos):
            self.pos += 2
            self._substitution(word, nested, "$(")
        elif src.startswith("${", self.pos):
            start = self.pos
            self.pos += 2
            inner = Word("", "")
            self.scan_double("}", inner, nested)  # ${x:-$(cmd)} runs cmd
            word.expands = word.expands or inner.expands
            word.params = True
            word.value += src[start : self.pos]
        elif src[self.pos] == "`":
            self._backticks(word, nested)
        else:
            if src[self.pos] == "$" and src[self.pos + 1 : self.pos + 2] in _PARAM_START:
                word.params = True  # $HOME, $1, $@, $$ …
            word.value += src[self.pos]
            self.pos += 1

    def _arithmetic(self) -> tuple[Word, list[SimpleCommand]] | None:
        """`$(( … ))` or `(( … ))` at pos, where `<<` is a shift and not a here-document.

        None (nothing consumed) unless it closes with an adjacent `))`: bash reads
        `$((cmd) )` as a command substitution, and so must we.
        """
        src, start, depth0 = self.src, self.pos, self.depth
        self.pos = start + (3 if src[start] == "$" else 2)
        scratch, nested = Word("", ""), list[SimpleCommand]()
        level = 2
        try:
            while level:
                if self.pos >= len(src):
                    raise ShellSyntaxError("missing '))'")
                c = src[self.pos]
                if c in "()":
                    if c == ")" and level == 2 and not src.startswith(")", self.pos + 1):
                        raise ShellSyntaxError("not arithmetic")
                    level += 1 if c == "(" else -1
                    self.pos += 1
                elif c in "$`":
                    self._dollar_or_char(scratch, nested)
                else:
                    self.pos += 1
        except ShellSyntaxError:
            self.pos, self.depth = start, depth0
            return None
        text = src[start : self.pos]
        return Word(text, text, expands=scratch.expands), nested

    def _substitution(self, word: Word, nested: list[SimpleCommand], opener: str) -> None:
        start = self.pos - len(opener)
        nested.extend(self.parse_list(")", []))
        word.value += self.src[start : self.pos]
        word.expands = True

    def _backticks(self, word: Word, nested: list[SimpleCommand]) -> None:
        src = self.src
        start = self.pos
        self.pos += 1
        body: list[str] = []
        while True:
            if self.pos >= len(src):
                raise ShellSyntaxError("unbalanced backquote")
            c = src[self.pos]
            if c == "`":
                self.pos += 1
                break
            if c == "\\" and src[self.pos + 1 : self.pos + 2] in ("`", "\\", "$"):
                body.append(src[self.pos + 1])
                self.pos += 2
            else:
                body.append(c)
                self.pos += 1
        nested.extend(_Parser("".join(body), self.depth + 1).parse_all())
        word.value += src[start : self.pos]
        word.expands = True

    def _ansi_c(self, word: Word) -> None:
        """`$'…'`, decoded as bash does: `$'\\x72m'` is `rm`."""
        src = self.src
        self.pos += 2
        while True:
            if self.pos >= len(src):
                raise ShellSyntaxError("unbalanced $'")
            c = src[self.pos]
            if c == "'":
                self.pos += 1
                return
            if c != "\\":
                word.value += c
                self.pos += 1
                continue
            m = _ANSI_ESCAPE.match(src, self.pos)
            if m is None:
                word.value += src[self.pos + 1 : self.pos + 2]
                self.pos += 2
                continue
            word.value += _decode_escape(m.group(0))
            self.pos = m.end()

    # --- helpers ----------------------------------------------------------------------

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ShellSyntaxError("nested too deeply")

    def _skip_blanks(self) -> None:
        src = self.src
        while self.pos < len(src):
            if src[self.pos] in _BLANK:
                self.pos += 1
            elif src.startswith("\\\n", self.pos):
                self.pos += 2
            else:
                break

    def _word_ends(self, pos: int, also: str = "") -> bool:
        return pos >= len(self.src) or self.src[pos] in _BLANK + "\n" + also
