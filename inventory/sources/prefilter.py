"""The code-file prefilter: a cheap test that a file *cannot* hold a finding, so that it is never parsed.

It must be conservative (never drop a file the parsers would report something in), so the words it
looks for are not a hand list: they come from the rule tables themselves (Python:
:func:`inventory.rules.derive.trigger_words` of :data:`inventory.rules.python.NAMES`; tree-sitter languages:
:func:`inventory.rules.treesitter.trigger_words`, each language's declared words).

* Python: every finding needs one of the trigger words as a whole identifier (a name, an attribute or
  an imported module) in the source *as the parser reads it*, and then every component of some rule's
  dotted name (:func:`inventory.rules.derive.rule_requirements`: ``hmac.new`` needs ``hmac`` and
  ``new``; a file that only calls ``hmac.compare_digest`` is not parsed). For plain-ASCII data without a
  coding line (nearly every file) those are the bytes themselves; otherwise (a PEP 263 cookie such as
  ``utf-7`` or ``unicode_escape``, non-ASCII text whose identifiers the parser NFKC-normalises, e.g.
  ``ｈａｓｈｌｉｂ``) the words are searched in every decoding the parser may use, with identifiers as NFKC
  makes them (for valid UTF-8: the bytes with only the characters that can turn into ASCII name
  characters replaced, see :func:`_identifier_spelling`).
  A word counts as whole unless an ASCII letter or ``_`` precedes it or a letter, digit or ``_`` follows
  it (a digit before it is let through: ``9rsa`` is a syntax error, and letting it through is the safe side).
  Matches inside comments or strings count too: the prefilter never reasons about them.
* Tree-sitter languages: one of the language's trigger words as a substring (rules compare callee names
  verbatim). Go: every rule names an imported crypto package, whose quoted import path holds ``"crypto/``
  (standard library), ``/crypto/`` (``golang.org/x/crypto/…``) or ``circl/``. Java: ``getInstance``
  counts on the JCA classes only, looked for as ``Cipher.getInstance`` and so on (white space before the
  dot is the one spelling this misses).

All words of a language are searched in one pass with an Aho-Corasick automaton (``ahocorasick_rs``,
leftmost-longest), built once per process; without that package, ``bytes.find`` per word (same answers).
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from inventory.rules import derive, pyast, python, registry, treesitter

ahocorasick_rs: Any
try:
    import ahocorasick_rs
except ImportError:  # pragma: no cover - the fallback is tested by forcing it
    ahocorasick_rs = None

#: Bytes that make an occurrence part of a longer identifier on its left / right (ASCII; see module docstring).
_LEFT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_RIGHT = _LEFT | frozenset(b"0123456789")
#: Any ``coding[:=]name`` in the first two lines: every codec so named is tried (a superset of PEP 263's rule).
_COOKIE = re.compile(rb"coding[:=][ \t]*([-\w.]+)")

Finder = Callable[[bytes], list[tuple[int, int, int]]]


def may_contain_crypto(lang: str, data: bytes) -> bool:
    """False only if no parser rule for ``lang`` can report anything in ``data`` (see module docstring)."""
    if lang == "python":
        return python_may_contain_crypto(data)
    finder = _substring_finder(lang)
    return finder is None or bool(finder(data))


def python_may_contain_crypto(data: bytes) -> bool:
    """Python: a trigger word as a whole identifier in the text the parser sees, then every slot of some rule
    of :func:`inventory.rules.derive.rule_requirements` (see module docstring)."""
    if pyast.plain_ascii(data):
        return _has_word(data) and _meets_a_rule(data)
    return any(_has_word(text) and _meets_a_rule(text) for text in _parser_texts(data))


def _has_word(data: bytes, find: Finder | None = None) -> bool:
    """One of the finder's words as a whole identifier in ``data`` (default: the Python trigger words)."""
    find = find or _python_finder()
    end = len(data)
    for _, i, j in find(data):
        if (i == 0 or data[i - 1] not in _LEFT) and (j == end or data[j] not in _RIGHT):
            return True
    return False


def _meets_a_rule(data: bytes) -> bool:
    """Some rule has one of each of its slots' words, as a whole identifier, in ``data``."""
    words, rules = _rule_table()
    end = len(data)
    present = set()
    for n, i, j in _rule_finder()(data):
        if (i == 0 or data[i - 1] not in _LEFT) and (j == end or data[j] not in _RIGHT):
            present.add(words[n])
    return any(all(not slot.isdisjoint(present) for slot in rule) for rule in rules)


@functools.cache
def _rule_table() -> tuple[list[str], list[tuple[frozenset[str], ...]]]:
    rules = derive.rule_requirements(python.NAMES)
    return sorted({w for rule in rules for slot in rule for w in slot}), rules


@functools.cache
def _rule_finder() -> Finder:
    return _finder(_rule_table()[0], whole_words=True)


def _parser_texts(data: bytes) -> set[bytes]:
    """Byte strings to search for the identifiers the parser may see in ``data``: UTF-8 (or the scanner's
    lenient UTF-8 fallback) and each codec a coding line names, NFKC-normalised as identifiers are."""
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1) if first >= 0 else -1
    head = data if second < 0 else data[:second]
    out: set[bytes] = set()
    texts: set[str] = set()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        texts.add(data.decode("utf-8", "replace"))
    else:
        out.add(_identifier_spelling(data))
    for m in _COOKIE.finditer(head):
        for name in _codec_names(m.group(1).decode("ascii")):
            try:
                if codecs.lookup(name).name in ("utf-8", "utf-8-sig"):
                    continue  # the UTF-8 reading above (a BOM is no identifier character)
                texts.add(data.decode(name))
            except (LookupError, UnicodeError, ValueError, TypeError):
                continue  # no such codec, or the bytes do not decode: the parser fails on them too
    out.update(_nfkc_utf8(t) for t in texts)
    return out


def _nfkc_utf8(text: str) -> bytes:
    return unicodedata.normalize("NFKC", text).encode("utf-8", "surrogatepass")


def _identifier_spelling(data: bytes) -> bytes:
    """Valid UTF-8 ``data`` with every character that can make an identifier normalise to ASCII word
    characters replaced by its NFKC form (usually none: ``data`` itself).

    An identifier token is a maximal run of ASCII word characters and non-ASCII characters. If it normalises
    to an all-ASCII word, each of its non-ASCII characters normalises to ASCII word characters only (NFKC
    deletes nothing, composition only makes non-ASCII characters, and ASCII characters never compose with
    each other), so after the replacement the token reads as that word; its neighbours are not identifier
    characters and are left as they are. UTF-8 is self-synchronising: a character's bytes match only there.
    """
    # deleting ASCII bytes leaves whole sequences: UTF-8 lead and continuation bytes are never ASCII
    others = data.translate(None, _ASCII_BYTES).decode("utf-8")
    for c in set(others):
        if _to_word_chars(c):
            data = data.replace(c.encode("utf-8"), unicodedata.normalize("NFKC", c).encode("utf-8"))
    return data


@functools.lru_cache(maxsize=4096)
def _to_word_chars(c: str) -> bool:
    """``c`` may stand in an identifier (XID_Continue, which the tokenizer checks before normalising; any
    other character in a name is a syntax error) and its NFKC form holds an ASCII letter, digit or ``_``
    (``ｈ``, ``ﬁ``, ``𝐡``…; not ``²`` or ``™``)."""
    # without a decomposition mapping NFKC leaves a character alone (or composes it: never into ASCII)
    return (("a" + c).isidentifier() and unicodedata.decomposition(c) != ""
            and any(ord(x) in _RIGHT for x in unicodedata.normalize("NFKC", c)))


_ASCII_BYTES = bytes(range(128))


def _codec_names(name: str) -> tuple[str, ...]:
    """The cookie's name as written and as CPython's tokenizer normalises it (``get_normal_name``:
    ``utf-8-*`` → ``utf-8``; ``latin-1-*``, ``iso-8859-1-*``, ``iso-latin-1-*`` → ``iso-8859-1``)."""
    low = name[:12].lower().replace("_", "-")
    if low == "utf-8" or low.startswith("utf-8-"):
        return name, "utf-8"
    if low in ("latin-1", "iso-8859-1", "iso-latin-1") or low.startswith(("latin-1-", "iso-8859-1-", "iso-latin-1-")):
        return name, "iso-8859-1"
    return (name,)


@functools.cache
def _python_finder() -> Finder:
    return _finder(sorted(derive.trigger_words(python.NAMES)), whole_words=True)


@functools.cache
def _substring_finder(lang: str) -> Finder | None:
    words = treesitter.trigger_words(registry.TREE_SITTER[lang])
    if words is None:
        return None
    return _finder(minimal_cover(words), whole_words=False)


def minimal_cover(words: Iterable[str]) -> list[str]:
    """The words that contain no other word of the set: a text holds one of ``words`` as a substring iff it
    holds one of these."""
    ws = set(words)
    return sorted(w for w in ws if not any(o != w and o in w for o in ws))


def _finder(words: list[str], whole_words: bool) -> Finder:
    """A function listing (word index, start, end) of occurrences of ``words`` in a byte string.

    With Aho-Corasick leftmost-longest matching, occurrences that start inside an earlier match are not
    listed. For substring tests that loses nothing (the earlier match is an occurrence). For whole-word
    tests an occurrence starting inside another match has that match's character on its left, a letter or
    ``_`` (hence not whole) unless it is a digit: then every occurrence is listed (overlapping search).
    """
    needles = [w.encode("ascii") for w in words]
    if ahocorasick_rs is None:
        return functools.partial(_find_all, needles)
    if whole_words and _starts_after_digit(needles):
        ac = ahocorasick_rs.BytesAhoCorasick(needles)
        return functools.partial(ac.find_matches_as_indexes, overlapping=True)
    ac = ahocorasick_rs.BytesAhoCorasick(needles, matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST)
    return ac.find_matches_as_indexes


def _starts_after_digit(needles: list[bytes]) -> bool:
    """True if some needle can occur starting right after a digit inside another needle."""
    for a in needles:
        for k in range(1, len(a)):
            if a[k - 1:k].isdigit():
                tail = a[k:]
                if any(b.startswith(tail) or tail.startswith(b) for b in needles):
                    return True
    return False


def _find_all(needles: list[bytes], data: bytes) -> list[tuple[int, int, int]]:
    """Every occurrence of every needle (the fallback without ``ahocorasick_rs``)."""
    out = []
    for n, w in enumerate(needles):
        i = data.find(w)
        while i >= 0:
            out.append((n, i, i + len(w)))
            i = data.find(w, i + 1)
    return out
