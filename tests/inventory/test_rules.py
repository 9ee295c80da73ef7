"""The rule engine: every language registered, one hit → finding path for all of them, the regex fallback."""

from __future__ import annotations

import dataclasses

import pytest

from inventory.model import AssetType
from inventory.rules import engine, regex, registry, treesitter
from inventory.rules.java import JAVA
from inventory.sources.files import classify

#: The same pinned protocol version (TLS 1.1) in each language's idiom.
_PINS_TLS_1_1 = {
    "p.py": "import ssl\nctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\nctx.minimum_version = ssl.TLSVersion.TLSv1_1\n",
    "P.java": 'class P { void f() throws Exception { javax.net.ssl.SSLContext.getInstance("TLSv1.1"); } }\n',
    "p.c": "void f(SSL_CTX *c) { SSL_CTX_set_min_proto_version(c, TLS1_1_VERSION); }\n",
    "p.go": 'package p\nimport "crypto/tls"\nvar c = tls.Config{MinVersion: tls.VersionTLS11}\n',
    "P.cs": "class P { void F(SslStream s) { var p = SslProtocols.Tls11; } }\n",
}


def test_every_code_suffix_has_a_scanner_and_every_grammar_is_installed() -> None:
    assert set(registry.LANG_OF_SUFFIX.values()) == set(registry.SCANNERS)
    assert set(registry.TREE_SITTER) == set(registry.SCANNERS) - {"python"}
    for name, language in registry.TREE_SITTER.items():
        assert language.name == name
        assert treesitter.grammar_installed(language), name  # CI installs every grammar wheel
        assert language.trigger_words, name


@pytest.mark.parametrize("name", sorted(_PINS_TLS_1_1))
def test_a_pinned_protocol_version_is_the_same_finding_in_every_language(name: str) -> None:
    kind = classify(name, b"")
    assert kind is not None
    found = registry.scan(name, _PINS_TLS_1_1[name].encode(), kind[1])
    protocols = [f for f in found if f.asset_type is AssetType.PROTOCOL]
    assert len(protocols) == 1, found
    f = protocols[0]
    assert (f.source, f.confidence, f.usage, f.details) == (
        kind[1], engine.RESOLVED, "protocol", {"id": f"{kind[1]}:tlsv1.1", "protocol": "tlsv1.1"})
    assert f.location.uri == name and f.location.line is not None and f.location.line >= 1
    assert f.context == _PINS_TLS_1_1[name].splitlines()[f.location.line - 1].strip()


def test_a_parameter_resolved_later_refines_the_same_hit() -> None:
    unresolved = 'class K { void f() throws Exception { KeyPairGenerator g = KeyPairGenerator.getInstance("RSA"); } }\n'
    (f,) = registry.scan("K.java", unresolved.encode(), "java")
    assert (f.raw, f.key_bits, f.confidence) == ("RSA", None, engine.UNRESOLVED)
    resolved = unresolved.replace("} }", "g.initialize(3072); } }")
    (f,) = registry.scan("K.java", resolved.encode(), "java")
    assert (f.raw, f.key_bits, f.confidence) == ("RSA", 3072, engine.RESOLVED)


def test_without_its_grammar_a_language_falls_back_to_the_regex_rules() -> None:
    absent = dataclasses.replace(JAVA, grammar=("tree_sitter_qshift_absent", "language"))
    assert not treesitter.grammar_installed(absent)
    src = b'class A {\n  void f() throws Exception { Cipher c = Cipher.getInstance("DES/ECB/PKCS5Padding"); }\n}\n'
    (f,) = treesitter.scan("A.java", src, absent)
    assert (f.raw, f.source, f.confidence, f.asset_type) == ("DES/ECB/PKCS5Padding", "java-regex", regex.CONFIDENCE,
                                                             AssetType.ALGORITHM)
    assert (f.location.line, f.location.column) == (2, src.splitlines()[1].index(b"getInstance") + 1)
    assert f.context.startswith("void f()")
    # the prefilter must then let through what the regex reports, not only what the grammar's rules would
    words = treesitter.trigger_words(absent)
    assert words is not None and regex.TRIGGER_WORDS <= words
    assert JAVA.trigger_words is not None and not regex.TRIGGER_WORDS <= JAVA.trigger_words  # bare getInstance
