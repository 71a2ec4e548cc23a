"""Where each key of a TOML text is: the line of every table, key, array element and inline-table key.

``tomllib`` (and ``tomlkit``) give values without positions, so registry errors could only name a
path (``devices[2].channels[0].meter``). :func:`key_lines` scans the text once, structurally
(strings, comments, arrays, inline tables, ``[table]`` and ``[[array.of.tables]]`` headers), and
maps every path to its 1-based line; :func:`line_of` finds the line of a path, or of its nearest
enclosing entry when the key is missing (a required field that is absent is reported on its table's
header). The scan never raises on text that ``tomllib`` accepted; on other text it stops early and
keeps what it found.
"""

from __future__ import annotations

from collections.abc import Sequence

Path = tuple[str | int, ...]

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _Stop(Exception):
    """The text ended or is not TOML where the scanner stands."""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self.arrays: dict[Path, int] = {}  # array-of-tables path -> number of elements so far

    # ---- characters ----
    def peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def advance(self, n: int = 1) -> None:
        chunk = self.s[self.i:self.i + n]
        if len(chunk) < n:
            raise _Stop
        self.line += chunk.count("\n")
        self.i += n

    def skip_blank(self, newlines: bool) -> None:
        """Skip spaces and tabs, comments, and (if ``newlines``) line breaks."""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.advance()
            elif c == "#":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end
            else:
                return

    # ---- lexical pieces ----
    def string(self) -> str:
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                self.advance(3)
                end = self.s.find(quote, self.i)
                while quote == '"""' and end > 0 and _escaped(self.s, end):
                    end = self.s.find(quote, end + 1)
                if end < 0:
                    raise _Stop
                text = self.s[self.i:end]
                self.advance(end - self.i + 3)
                while self.peek() == quote[0]:  # up to two quotes may close the string's content
                    self.advance()
                return text
        quote = self.peek()
        self.advance()
        start = self.i
        while True:
            c = self.peek()
            if c in ("", "\n"):
                raise _Stop
            if c == "\\" and quote == '"':
                self.advance(2)
                continue
            self.advance()
            if c == quote:
                return self.s[start:self.i - 1]

    def key(self) -> list[str]:
        parts = []
        while True:
            self.skip_blank(False)
            c = self.peek()
            if c in ('"', "'"):
                parts.append(self.string())
            else:
                start = self.i
                while self.peek() and self.peek() in _BARE:
                    self.advance()
                if self.i == start:
                    raise _Stop
                parts.append(self.s[start:self.i])
            self.skip_blank(False)
            if self.peek() != ".":
                return parts
            self.advance()

    # ---- values ----
    def value(self, path: Path) -> None:
        c = self.peek()
        if c == "[":
            self.advance()
            index = 0
            while True:
                self.skip_blank(True)
                if self.peek() == "]":
                    self.advance()
                    return
                self.lines.setdefault(path + (index,), self.line)
                self.value(path + (index,))
                index += 1
                self.skip_blank(True)
                if self.peek() == ",":
                    self.advance()
        elif c == "{":
            self.advance()
            while True:
                self.skip_blank(False)
                if self.peek() == "}":
                    self.advance()
                    return
                self.key_value(path)
                self.skip_blank(False)
                if self.peek() == ",":
                    self.advance()
        elif c in ('"', "'"):
            self.string()
        else:
            start = self.i
            while self.peek() and self.peek() not in ",]}#\n":
                self.advance()
            if self.i == start:
                raise _Stop

    def key_value(self, table: Path) -> None:
        line = self.line
        path = table + tuple(self.key())
        self.lines.setdefault(path, line)
        if self.peek() != "=":
            raise _Stop
        self.advance()
        self.skip_blank(False)
        self.value(path)

    # ---- tables ----
    def resolve(self, parts: Sequence[str]) -> Path:
        """A header's dotted key as a path, with the current index of every array of tables on the way."""
        path: Path = ()
        for part in parts:
            path += (part,)
            if path in self.arrays:
                path += (self.arrays[path] - 1,)
        return path

    def document(self) -> dict[Path, int]:
        table: Path = ()
        try:
            while True:
                self.skip_blank(True)
                if self.i >= len(self.s):
                    break
                line = self.line
                if self.peek(2) == "[[":
                    self.advance(2)
                    parts = self.key()
                    if self.peek(2) != "]]":
                        raise _Stop
                    self.advance(2)
                    array = self.resolve(parts[:-1]) + (parts[-1],)
                    self.arrays[array] = self.arrays.get(array, 0) + 1
                    self.lines.setdefault(array, line)
                    table = array + (self.arrays[array] - 1,)
                    self.lines[table] = line
                elif self.peek() == "[":
                    self.advance()
                    parts = self.key()
                    if self.peek() != "]":
                        raise _Stop
                    self.advance()
                    table = self.resolve(parts)
                    self.lines.setdefault(table, line)
                else:
                    self.key_value(table)
        except _Stop:
            pass
        return self.lines


def _escaped(text: str, at: int) -> bool:
    """True when the character at ``at`` is preceded by an odd number of backslashes."""
    n = 0
    while at - n - 1 >= 0 and text[at - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def key_lines(text: str) -> dict[Path, int]:
    """Every path of ``text`` (``("devices", 2, "channels", 0, "meter")``) and its 1-based line."""
    return _Scanner(text).document()


def line_of(lines: dict[Path, int], path: Sequence[str | int]) -> int | None:
    """The line of ``path``, else of its longest prefix found (its table), else None."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
