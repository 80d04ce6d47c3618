"""RE2 -> Java regex translation for the contract's patterns.

The C++ engine matches with RE2::FullMatch; Spark's `rlike` is java.util.regex with
find() semantics, and the two dialects differ in details (Java's `$` also matches
before a final line terminator, its `\\s` includes VT, its `.` excludes CR and U+2028,
...). So a pattern is parsed here with RE2's rules into a small syntax tree, and the
tree is written out as an equivalent Java pattern anchored at both ends (`\\A(?:...)\\z`)
in which every character class is spelled out explicitly.

Supported subset: literals and escaped punctuation, `\\t \\n \\r \\f \\v \\a \\xHH \\x{H..}`,
`.`, `^ $ \\A \\z`, character classes (`[...]`, `[^...]`, ranges, escapes, `\\d \\s \\w`
inside), `\\d \\D \\s \\S \\w \\W`, groups `(...)` and `(?:...)`, alternation, and the
quantifiers `? * + {n} {n,} {n,m}` (a lazy `?` suffix is accepted: it does not change
whether a string matches). Anything else raises RegexError.
"""

from __future__ import annotations

from dataclasses import dataclass

Range = tuple[int, int]  # inclusive code point range


class RegexError(ValueError):
    """The pattern is not valid RE2, or uses a construct outside the supported subset."""


@dataclass(frozen=True)
class Literal:
    char: int  # a code point


@dataclass(frozen=True)
class CharClass:
    ranges: tuple[Range, ...]
    negated: bool = False


@dataclass(frozen=True)
class Anchor:
    at_end: bool  # False: beginning of text (^, \A); True: end of text ($, \z)


@dataclass(frozen=True)
class Group:
    body: Node


@dataclass(frozen=True)
class Repeat:
    item: Node
    low: int
    high: int | None  # None: unbounded


@dataclass(frozen=True)
class Concat:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alternate:
    options: tuple[Node, ...]


Node = Literal | CharClass | Anchor | Group | Repeat | Concat | Alternate

MAX_REPEAT = 1000  # RE2's limit for {n,m}
MAX_CODE_POINT = 0x10FFFF

# RE2's Perl classes (ASCII only, as in RE2; \s has no VT unlike Java's).
DIGIT: tuple[Range, ...] = ((0x30, 0x39),)
SPACE: tuple[Range, ...] = ((0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20))
WORD: tuple[Range, ...] = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
PERL_CLASSES = {"d": DIGIT, "s": SPACE, "w": WORD}
NEWLINE: tuple[Range, ...] = ((0x0A, 0x0A),)  # RE2's `.` is [^\n]

SIMPLE_ESCAPES = {"a": 0x07, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
UNSUPPORTED_ESCAPES = {
    "b": "word boundary \\b",
    "B": "word boundary \\B",
    "C": "\\C (any byte)",
    "Q": "quoting \\Q...\\E",
    "E": "quoting \\Q...\\E",
    "p": "Unicode class \\p",
    "P": "Unicode class \\P",
}
HEX_DIGITS = "0123456789abcdefABCDEF"


class _Parser:
    """Recursive descent over one pattern, following RE2's parser where they overlap."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def fail(self, what: str) -> RegexError:
        return RegexError(f"{what} at offset {self.pos}")

    def peek(self, ahead: int = 0) -> str:
        i = self.pos + ahead
        return self.text[i] if i < len(self.text) else ""

    def take(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def parse(self) -> Node:
        node = self.alternation()
        if self.pos < len(self.text):
            raise self.fail("unexpected )")
        return node

    def alternation(self) -> Node:
        options = [self.concatenation()]
        while self.peek() == "|":
            self.pos += 1
            options.append(self.concatenation())
        return options[0] if len(options) == 1 else Alternate(tuple(options))

    def concatenation(self) -> Node:
        items: list[Node] = []
        while self.peek() not in ("", "|", ")"):
            if self.quantifier() is not None:
                raise self.fail("missing argument to repetition operator")
            items.append(self.quantified(self.atom()))
        return items[0] if len(items) == 1 else Concat(tuple(items))

    def quantified(self, item: Node) -> Node:
        bounds = self.quantifier()
        if bounds is None:
            return item
        if isinstance(item, Anchor):
            raise self.fail("unsupported: repetition of an anchor")
        if self.peek() == "?":  # lazy: same strings match
            self.pos += 1
        if self.quantifier() is not None:
            raise self.fail("bad repetition operator (stacked repetitions)")
        return Repeat(item, *bounds)

    def quantifier(self) -> tuple[int, int | None] | None:
        """Consumes a repetition operator if one starts here; RE2 reads a `{` that does
        not form {n}, {n,} or {n,m} as a literal brace."""
        ch = self.peek()
        simple = {"?": (0, 1), "*": (0, None), "+": (1, None)}
        if ch in simple:
            self.pos += 1
            return simple[ch]
        if ch != "{":
            return None
        end = self.text.find("}", self.pos)
        low_text, comma, high_text = self.text[self.pos + 1 : end].partition(",")
        if end < 0 or not _decimal(low_text) or (high_text and not _decimal(high_text)):
            return None
        low = int(low_text)
        high = int(high_text) if high_text else (None if comma else low)
        if low > MAX_REPEAT or (high is not None and (high > MAX_REPEAT or high < low)):
            raise self.fail(f"invalid repetition size {self.text[self.pos : end + 1]}")
        self.pos = end + 1
        return low, high

    def atom(self) -> Node:
        ch = self.take()
        if ch == "(":
            return self.group()
        if ch == "[":
            return self.char_class()
        if ch == "^":
            return Anchor(at_end=False)
        if ch == "$":
            return Anchor(at_end=True)
        if ch == ".":
            return CharClass(NEWLINE, negated=True)
        if ch == "\\":
            return self.escape_atom()
        return Literal(ord(ch))

    def group(self) -> Node:
        if self.peek() == "?":
            if self.peek(1) != ":":
                raise self.fail("unsupported group syntax (?")
            self.pos += 2
        body = self.alternation()
        if self.take() != ")":
            raise self.fail("missing )")
        return Group(body)

    def escape_atom(self) -> Node:
        ch = self.peek()
        if ch == "A" or ch == "z":
            self.pos += 1
            return Anchor(at_end=ch == "z")
        if ch.lower() in PERL_CLASSES:
            self.pos += 1
            return CharClass(PERL_CLASSES[ch.lower()], negated=ch.isupper())
        return Literal(self.escaped_char())

    def escaped_char(self) -> int:
        """The character after a backslash (already consumed), as RE2's ParseEscape."""
        ch = self.take()
        if ch == "":
            raise self.fail("trailing \\")
        if ch in UNSUPPORTED_ESCAPES:
            raise self.fail(f"unsupported: {UNSUPPORTED_ESCAPES[ch]}")
        if ch in SIMPLE_ESCAPES:
            return SIMPLE_ESCAPES[ch]
        if ch == "x":
            return self.hex_escape()
        if ch.isascii() and not ch.isalnum():
            return ord(ch)  # escaped punctuation is the literal character
        if ch in "01234567":
            raise self.fail("unsupported: octal escape or backreference")
        raise self.fail(f"invalid escape sequence \\{ch}")

    def hex_escape(self) -> int:
        if self.peek() == "{":
            end = self.text.find("}", self.pos)
            digits = self.text[self.pos + 1 : end] if end > 0 else ""
            self.pos = end + 1 if end > 0 else self.pos
        else:
            digits = self.text[self.pos : self.pos + 2]
            self.pos += 2
            if len(digits) != 2:
                digits = ""
        if not digits or any(d not in HEX_DIGITS for d in digits):
            raise self.fail("invalid \\x escape")
        value = int(digits, 16)
        if value > MAX_CODE_POINT:
            raise self.fail("invalid \\x escape (past U+10FFFF)")
        return value

    def char_class(self) -> CharClass:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[Range] = []
        first = True  # `]` right after `[` or `[^` is a literal
        while first or self.peek() != "]":
            if self.peek() == "":
                raise self.fail("missing ]")
            first = False
            ranges.extend(self.class_item())
        self.pos += 1
        return CharClass(tuple(ranges), negated)

    def class_item(self) -> tuple[Range, ...]:
        if self.peek() == "[" and self.peek(1) == ":":
            raise self.fail("unsupported: POSIX class [:name:]")
        if self.peek() == "\\" and self.peek(1).lower() in PERL_CLASSES:
            if self.peek(1).isupper():
                raise self.fail(f"unsupported: \\{self.peek(1)} inside a character class")
            self.pos += 2
            return PERL_CLASSES[self.peek(-1)]
        low = self.class_char()
        if self.peek() == "-" and self.peek(1) not in ("]", ""):
            self.pos += 1
            high = self.class_char()
            if high < low:
                raise self.fail("invalid character class range")
            return ((low, high),)
        return ((low, low),)

    def class_char(self) -> int:
        ch = self.take()
        if ch == "\\":
            return self.escaped_char()
        if ch == "":
            raise self.fail("missing ]")
        return ord(ch)


def _decimal(text: str) -> bool:
    return text != "" and all("0" <= c <= "9" for c in text)


def parse(pattern: str) -> Node:
    """The syntax tree of an RE2 pattern; RegexError if invalid or unsupported."""
    return _Parser(pattern).parse()


def java_char(code_point: int) -> str:
    """One character as a Java regex token, safe both inside and outside classes."""
    ch = chr(code_point)
    if ch.isascii() and ch.isalnum():
        return ch
    if 0x21 <= code_point <= 0x7E:
        return "\\" + ch  # Java: a backslash before a non-alphabetic char is a literal
    return f"\\x{{{code_point:x}}}"


def _java_class(node: CharClass) -> str:
    items = "".join(
        java_char(lo) if lo == hi else f"{java_char(lo)}-{java_char(hi)}" for lo, hi in node.ranges
    )
    return f"[{'^' if node.negated else ''}{items}]"


def _java_repeat(node: Repeat) -> str:
    item = to_java(node.item)
    if (node.low, node.high) == (0, 1):
        return item + "?"
    if (node.low, node.high) == (0, None):
        return item + "*"
    if (node.low, node.high) == (1, None):
        return item + "+"
    if node.high is None:
        return f"{item}{{{node.low},}}"
    if node.high == node.low:
        return f"{item}{{{node.low}}}"
    return f"{item}{{{node.low},{node.high}}}"


def to_java(node: Node) -> str:
    """A syntax tree as java.util.regex text (not anchored; see translate)."""
    if isinstance(node, Literal):
        return java_char(node.char)
    if isinstance(node, CharClass):
        return _java_class(node)
    if isinstance(node, Anchor):
        return "\\z" if node.at_end else "\\A"
    if isinstance(node, Group):
        return f"(?:{to_java(node.body)})"
    if isinstance(node, Repeat):
        return _java_repeat(node)
    if isinstance(node, Concat):
        return "".join(to_java(item) for item in node.items)
    return "|".join(to_java(option) for option in node.options)


def translate(pattern: str) -> str:
    """A Java pattern that find()s exactly the strings RE2::FullMatch(pattern) accepts."""
    return f"\\A(?:{to_java(parse(pattern))})\\z"
