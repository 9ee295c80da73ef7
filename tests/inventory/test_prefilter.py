"""The code prefilter is conservative: every file a parser reports something in passes it.

Cases are built from the rule tables themselves (every ``EXACT`` rule and every ``lookup`` family of the
Python rules), so a rule added without its trigger word, or a word dropped from the prefilter, fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.rules import derive, pyast, python, registry, treesitter
from inventory.sources import prefilter
from inventory.sources.files import classify
from tests.inventory import fixture_tree

#: Arguments that make a rule's handler report (most report on any call).
_ARGS = {
    "jwt.decode": '("t", "k", algorithms=["HS256"])',
    "ssl.SSLContext": "(ssl.PROTOCOL_TLSv1_1)",
    "ssl.wrap_socket": "(s, ssl_version=ssl.PROTOCOL_TLSv1)",
    "hash.Hash": "(cryptography.hazmat.primitives.hashes.SHA256())",
    "ciphers.Cipher": "(cryptography.hazmat.primitives.ciphers.algorithms.AES(k))",
}
#: One qualified name per ``lookup`` family (beyond the exact table).
_LOOKUP_CASES = ["asym.ed25519.Ed25519PrivateKey.generate", "asym.padding.OAEP", "hash.SHA256", "alg.AES",
                 "aead.AESGCM", "aead.AESGCM.generate_key", "pcd.Cipher.AES.new", "pcd.Hash.MD5.new",
                 "pcd.PublicKey.RSA.generate", "hashlib.sha256", "hashlib.new"]


def _long(q: str) -> str:
    """The written (long) spelling of a qualified rule name: ``asym.rsa.x`` → ``cryptography…asymmetric.rsa.x``."""
    for long, short in python.PREFIXES:
        if q.startswith(short) and q.split(".")[0] in python.SHORT_HEADS:
            return long + q[len(short):]
    return q


def _rule_sources() -> list[tuple[str, str]]:
    cases = []
    for q in [*python.EXACT, *_LOOKUP_CASES]:
        args = _ARGS.get(q, '("md5")' if q == "hashlib.new" else "(2048)")
        written = _long(q)
        # a bare dotted name, no import: the scanner resolves it all the same
        cases.append((q, f"{written}{args}\n"))
        # bound by an import under another name
        mod, _, attr = written.rpartition(".")
        if "." in mod:
            cases.append((q + " (alias)", f"import {mod} as zz\nzz.{attr}{args}\n"))
    cases += [("set_ciphers", 'ctx.set_ciphers("ECDHE+AESGCM:!aNULL")\n'),
              ("set_ecdh_curve", 'ctx.set_ecdh_curve("prime256v1")\n'),
              ("minimum_version", "import ssl\nctx.minimum_version = ssl.TLSVersion.TLSv1_1\n"),
              ("maximum_version", "import ssl\nctx.maximum_version = ssl.TLSVersion.TLSv1\n")]
    return cases


@pytest.mark.parametrize(("rule", "source"), _rule_sources(), ids=[c[0] for c in _rule_sources()])
def test_every_python_rule_reports_and_its_source_passes_the_prefilter(rule: str, source: str) -> None:
    assert pyast.scan("t.py", source.encode()), f"{rule}: the case must produce a finding"
    assert prefilter.may_contain_crypto("python", source.encode()), rule


#: For each trigger word, a source whose *only* trigger word it is.
_ONLY_WORD = {
    "hashlib": "hashlib.md5()\n", "hmac": 'hmac.new(b"k", b"m", "sha256")\n', "rsa": "rsa.newkeys(2048)\n",
    "ecdsa": "ecdsa.SigningKey.generate()\n", "paramiko": "paramiko.RSAKey.generate(2048)\n",
    "jwt": 'jwt.encode({}, "k", algorithm="HS256")\n', "Crypto": "Crypto.Hash.MD5.new()\n",
    "Cryptodome": "Cryptodome.Hash.MD5.new()\n", "cryptography": "cryptography.hazmat.primitives.hashes.SHA256()\n",
    "set_ciphers": 'c.set_ciphers("AES128-SHA")\n', "set_ecdh_curve": 'c.set_ecdh_curve("prime256v1")\n',
    "minimum_version": "c.minimum_version = ssl.TLSVersion.TLSv1\n",
    "maximum_version": "c.maximum_version = ssl.TLSVersion.SSLv3\n", "nacl": "nacl.secret.SecretBox(k)\n",
    **{w: f"ssl.SSLContext(ssl.{w})\n" for w in python.SSL_PROTOCOLS},
}
#: Words implied by another: every ``jose.jwt`` rule also writes ``jwt`` (the short head of ``jose.jwt.``).
_IMPLIED = {"jose"}


#: The Python trigger words, as the prefilter derives them from the rule table.
_WORDS = derive.trigger_words(python.NAMES)


@pytest.mark.parametrize("word", sorted(_WORDS - _IMPLIED))
def test_dropping_any_python_trigger_word_loses_a_finding(word: str) -> None:
    source = _ONLY_WORD[word].encode()
    assert pyast.scan("t.py", source)
    words = _WORDS
    assert [w for w in sorted(words) if prefilter._has_word(source, prefilter._finder([w], True))] == [word]
    assert prefilter.may_contain_crypto("python", source)
    assert not prefilter._has_word(source, prefilter._finder(sorted(words - {word}), True))


@pytest.mark.parametrize(("label", "source"), [
    # identifiers the parser NFKC-normalises: no byte of "hashlib" in the file
    ("nfkc", "\uff48\uff41\uff53\uff48\uff4c\uff49\uff42.md5()\n".encode()),
    ("nfkc, one letter", "# \u2139 caf\u00e9\nhash\uff4cib.md5()\n".encode()),
    ("nfkc, math letter", "\U0001d421ashlib.sha1()\n".encode()),
    ("invalid utf-8 comment", b"# caf\xe9\nhashlib.md5()\n"),
    ("utf-7 cookie", b"# coding: utf-7\n+AGg-ashlib.md5()\n"),
    ("unicode_escape cookie", b"# coding: unicode_escape\n\\u0068ashlib.md5()\n"),
    ("latin-1 cookie", b"# -*- coding: latin-1-unix -*-\n# caf\xe9\nhashlib.md5()\n"),
    ("no import", b"def f(hashlib):\n    return hashlib.sha1()\n"),
    ("late import", b"x = 1\n" * 3000 + b"import rsa\nrsa.newkeys(1024)\n"),
])
def test_spellings_the_parser_resolves_pass_the_prefilter(label: str, source: bytes) -> None:
    assert pyast.scan("t.py", source), label
    assert prefilter.may_contain_crypto("python", source), label


@pytest.mark.parametrize(("source", "expected"), [
    (b"x = universal_traversal(1)\n", False),  # 'rsa' inside longer names
    (b"import hmac\nok = hmac.compare_digest(a, b)\n", False),  # no rule: hmac.new / hmac.digest only
    (b"import hmac\nmac = hmac.new(k, m, 'sha256')\n", True),
    (b"from cryptography.hazmat.primitives import serialization\nserialization.load_pem_private_key(b)\n", False),
    (b"from cryptography.hazmat.primitives import hashes\nh = hashes.SHA256()\n", True),
    (b"import hashlibx\nhashlibx.md5()\n", False),
    (b"import os\nos.path.join('a')\n", False),
    (b'"""call rsa.newkeys(512)"""\n', True),  # strings and comments are not reasoned about
    (b"import Cryptodome\n", True),
])
def test_whole_word_matching(source: bytes, expected: bool) -> None:
    assert prefilter.may_contain_crypto("python", source) is expected


#: One file per tree-sitter language with a finding (the language comes from the name, as in a scan).
_TREE_SITTER_FILES = {
    "A.java": "class A { Object k = new HQCKEMGenerator(rnd); }\n",
    "B.java": "class B { void f() throws Exception { javax.crypto.Cipher.getInstance(\"DES\"); } }\n",
    "t.c": "void f(SSL *s) { SSL_set_min_proto_version(s, TLS1_VERSION); }\n",
    "d.c": "void f(void) { const void *m = EVP_md5(); }\n",
    "K.cs": "class K { void F() { var k = DSA.Create(1024); } }\n",
    "s.js": 'function f(c) { return c.createSign("RSA-SHA256"); }\n',
    "m.go": "package m\nimport \"crypto/md5\"\nfunc f() { md5.Sum(nil) }\n",
}


@pytest.mark.parametrize(("name", "source"), _TREE_SITTER_FILES.items(), ids=list(_TREE_SITTER_FILES))
def test_tree_sitter_rules_pass_the_prefilter(name: str, source: str) -> None:
    lang = registry.LANG_OF_SUFFIX[Path(name).suffix]
    assert registry.scan(name, source.encode(), lang), name
    assert prefilter.may_contain_crypto(lang, source.encode()), name


def test_every_code_file_of_the_fixture_tree_with_findings_passes(tmp_path: Path, shared_vectors: Path) -> None:
    fixture_tree.build(tmp_path, shared_vectors)
    checked = 0
    for p in sorted(tmp_path.rglob("*")):
        kind = classify(str(p), p.read_bytes()[:8192]) if p.is_file() else None
        if kind is None or kind[0] != "code":
            continue
        data = p.read_bytes()
        try:
            found = registry.scan(str(p), data, kind[1])
        except Exception:  # noqa: BLE001 - malformed fixture files are skipped by the scanner too
            continue
        if found:
            checked += 1
            assert prefilter.may_contain_crypto(kind[1], data), p
    assert checked >= 10


def test_fallback_without_ahocorasick_gives_the_same_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    sources = [s.encode() for _, s in _rule_sources()] + [b"x = traversal\n", b"PROTOCOL_TLSv1_3\n",
                                                           b"EVP_sha256()", b"int main(void) { return 0; }\n"]
    langs = ["python", "c", "java", "javascript", "csharp"]
    fast = [[prefilter.may_contain_crypto(lang, s) for s in sources] for lang in langs]
    monkeypatch.setattr(prefilter, "ahocorasick_rs", None)
    caches = (prefilter._python_finder, prefilter._substring_finder, prefilter._rule_finder)
    for c in caches:
        c.cache_clear()
    try:
        slow = [[prefilter.may_contain_crypto(lang, s) for s in sources] for lang in langs]
    finally:
        for c in caches:
            c.cache_clear()
    assert fast == slow
    assert any(row.count(True) for row in fast) and any(row.count(False) for row in fast)


def test_rule_requirements_cover_every_rule_and_start_with_trigger_words() -> None:
    rules = derive.rule_requirements(python.NAMES)
    assert len(rules) == len(python.EXACT) + len(python.LOOKUP_HEADS) + len(python.METHOD_WORDS)
    assert all(rule[0] <= _WORDS for rule in rules)
    # each short head of the exact table stands for exactly one written prefix
    for q in python.EXACT:
        head = q.split(".")[0]
        if head in python.SHORT_HEADS:
            assert sum(q.startswith(short) for _, short in python.PREFIXES) == 1, q


def test_minimal_cover_keeps_the_shortest_words() -> None:
    assert prefilter.minimal_cover(["SHA", "SHA256", "HMACSHA1", "MD5", "HMACMD5"]) == ["MD5", "SHA"]


def test_walking_only_the_calls_around_callee_words_finds_what_the_whole_tree_walk_finds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """JS/TS/C/C++: the query runs over the byte ranges of the callee words only (the speed of big bundles);
    on every corpus file of those languages (plus calls split over lines and words inside longer names) the
    findings are the same as a walk over every call of the tree."""
    from tests.inventory.recall import CORPUS

    cases = [(p.name, p.read_bytes()) for p in sorted(CORPUS.rglob("*")) if p.is_file()]
    cases.append(("split.js", b"const h = crypto\n  .createHash(\n 'md5');\nfoo(bar(crypto . createHash('sha1')))\n"
                              b"const x = notcreateHashy('md5'); forge.md\n.md5.create();\n"))
    real = treesitter._call_spans
    compared = 0
    for name, data in cases:
        kind = classify(name, data[:4096])
        language = registry.TREE_SITTER.get(kind[1]) if kind is not None else None
        if language is None or not language.calls_only:
            continue
        assert real(language, data) is not None
        fast = treesitter.scan_tree(name, data, language)
        monkeypatch.setattr(treesitter, "_call_spans", lambda language, src: None)
        whole = treesitter.scan_tree(name, data, language)
        monkeypatch.setattr(treesitter, "_call_spans", real)
        assert repr(fast) == repr(whole), name
        compared += 1
    assert compared >= 3
