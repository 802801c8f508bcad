"""The regular-expression dialect of ``matches()``: linear time, read alike by RE2 and Rust ``regex``.

Decisions run ``matches()`` with RE2 (``google-re2``, online) and Polars' Rust ``regex`` (offline,
backtests); both are automata without backtracking, so a pattern costs time linear in the text. The
two engines differ in a few places, which :func:`translate` removes before either sees the pattern:

* ``\\d \\w \\s \\b`` (and ``\\D \\W \\S \\B``) are ASCII (Rust would make them Unicode): they are
  rewritten to explicit ASCII classes / ASCII word boundaries;
* escapes the engines read differently (``\\<``, ``\\>``, ``\\b{…}``, ``\\Q…\\E``, ``\\C``, octal,
  ``\\1`` …) and class syntax only Rust has (nested ``[…]``, ``&&``, ``--``, ``~~``) are rejected;
* anything else either engine refuses (backreferences, look-around, ``(?x)``, ``{,n}`` …) is rejected
  when the strategy is loaded, with the engine's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fengkong.errors import InputError

#: Longest pattern ``matches()`` accepts (characters).
MAX_PATTERN_CHARS = 1000
#: Memory budget of one compiled RE2 program (bytes); larger programs are refused at load time.
RE2_MAX_MEM = 8 << 20

_SPACE = "\\t\\n\\v\\f\\r "
#: Perl classes → (outside a class, inside a class).
_PERL = {
    "d": ("[0-9]", "0-9"),
    "D": ("[^0-9]", "[:^digit:]"),
    "w": ("[0-9A-Za-z_]", "0-9A-Za-z_"),
    "W": ("[^0-9A-Za-z_]", "[:^word:]"),
    "s": (f"[{_SPACE}]", _SPACE),
    "S": (f"[^{_SPACE}]", "[:^space:]"),
}
_LITERAL_ESCAPES = set("ntrfva")
_LOOK = ("(?=", "(?!", "(?<=", "(?<!")
_PUNCT_OK = set("!\"#$%&'()*+,-./:;=?@[\\]^_`{|}~ ")


class PatternError(InputError, ValueError):
    """A pattern outside the dialect; ``offset`` is the character of the pattern at fault."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Pattern:
    """One checked pattern: what the user wrote and what each engine is given."""

    source: str
    re2: str
    rust: str


def _escape(p: str, i: int, in_class: bool) -> tuple[str, str, int]:
    """(RE2 text, Rust text, next index) for the escape starting at ``p[i] == '\\\\'``."""
    if i + 1 >= len(p):
        raise PatternError("pattern ends with a lone backslash", i)
    c = p[i + 1]
    if c in _PERL:
        t = _PERL[c][1 if in_class else 0]
        return t, t, i + 2
    if c in "bB":
        if in_class:
            raise PatternError(f"\\{c} is not allowed inside [...]", i)
        if p[i + 2:i + 3] == "{":
            raise PatternError(f"\\{c}{{...}} is not supported (write \\{{ for a literal brace)", i)
        return f"\\{c}", f"(?-u:\\{c})", i + 2
    if c in _LITERAL_ESCAPES or (c in "Az" and not in_class):
        return p[i:i + 2], p[i:i + 2], i + 2
    if c in "pPx":
        j = i + 2
        if p[j:j + 1] == "{":
            k = p.find("}", j)
            if k < 0:
                raise PatternError(f"unclosed \\{c}{{", i)
            j = k + 1
        else:
            j += 2 if c == "x" else 1
        return p[i:j], p[i:j], j
    if c in _PUNCT_OK:
        return p[i:i + 2], p[i:i + 2], i + 2
    if c.isdigit():
        raise PatternError(f"backreferences and octal escapes (\\{c}) are not supported", i)
    raise PatternError(f"unsupported escape \\{c}", i)


def _class(p: str, i: int) -> tuple[str, str, int]:
    """Translate the character class starting at ``p[i] == '['``."""
    start = i
    a = b = "["
    i += 1
    if p[i:i + 1] == "^":
        a += "^"
        b += "^"
        i += 1
    if p[i:i + 1] == "]":
        a += "\\]"
        b += "\\]"
        i += 1
    while True:
        if i >= len(p):
            raise PatternError("unclosed [", start)
        c = p[i]
        if c == "]":
            return a + "]", b + "]", i + 1
        if c == "\\":
            x, y, i = _escape(p, i, True)
            a += x
            b += y
            continue
        if c == "[":
            if p[i + 1:i + 2] == ":":
                k = p.find(":]", i + 2)
                if k < 0:
                    raise PatternError("unclosed [: in a class", i)
                a += p[i:k + 2]
                b += p[i:k + 2]
                i = k + 2
                continue
            raise PatternError("'[' inside [...] must be escaped as \\[", i)
        if p[i:i + 2] in ("&&", "--", "~~"):
            raise PatternError(f"{p[i:i + 2]!r} inside [...] is not supported (escape one of them)", i)
        a += c
        b += c
        i += 1


@lru_cache(maxsize=1024)
def translate(pattern: str) -> Pattern:
    """Check ``pattern`` against the dialect and both engines; raises PatternError."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"pattern is {len(pattern)} characters long (at most {MAX_PATTERN_CHARS})")
    a: list[str] = []
    b: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            x, y, i = _escape(pattern, i, False)
        elif c == "(" and pattern.startswith(_LOOK, i):
            raise PatternError("look-around ((?=, (?!, (?<=, (?<!) is not supported", i)
        elif c == "[":
            x, y, i = _class(pattern, i)
        else:
            x = y = c
            i += 1
        a.append(x)
        b.append(y)
    out = Pattern(pattern, "".join(a), "".join(b))
    _compile_re2(out.re2)
    problem = _rust_problem(out.rust)
    if problem:
        raise PatternError(f"not accepted by the vectorised (Polars/Rust) engine: {problem}")
    return out


def _re2_options() -> Any:
    import re2

    opts = re2.Options()
    opts.log_errors = False
    opts.max_mem = RE2_MAX_MEM
    return opts


@lru_cache(maxsize=1024)
def _compile_re2(pattern: str) -> Any:
    import re2

    try:
        return re2.compile(pattern, _re2_options())
    except re2.error as exc:
        msg = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"not accepted by RE2: {msg}") from None


def compile_re2(pattern: Pattern) -> Any:
    """The compiled RE2 program of a translated pattern (``.search(text)``)."""
    return _compile_re2(pattern.re2)


def _rust_problem(pattern: str) -> str | None:
    """Why Polars (Rust ``regex``) cannot compile ``pattern``, or None."""
    import polars as pl

    try:
        pl.select(pl.lit("", dtype=pl.Utf8).str.contains(pattern))
    except Exception as exc:  # polars raises ComputeError with the regex crate's message
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        detail = next((ln for ln in lines if ln.startswith("error:")), lines[-1] if lines else type(exc).__name__)
        return detail.removeprefix("error:").strip()
    return None
