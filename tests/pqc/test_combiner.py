"""The CatKDF-shaped combiner (pqc.combiner): properties with hypothesis, the documented info layout,
and typed errors."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pqc.combiner import DOMAIN, CombinerError, build_info, derive_session_keys, transcript_hash

labels = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
secrets_ = st.binary(min_size=1, max_size=48)
inputs_st = st.lists(st.tuples(labels, secrets_), min_size=1, max_size=4, unique_by=lambda pair: pair[0])
modes = st.sampled_from(["hybrid-qkd", "pqc-only", "psk", "qkd-only"])
transcripts = st.binary(min_size=0, max_size=64)
FAST = settings(max_examples=80, deadline=None)


def _derive(inputs, mode="hybrid-qkd", transcript=b"T", context="qshift test", length=32, **kw) -> bytes:  # noqa: ANN001
    return derive_session_keys(inputs, mode=mode, transcript=transcript, context=context, length=length, **kw)


@FAST
@given(inputs_st, modes, transcripts, st.data())
def test_flipping_any_single_secret_byte_changes_the_output(inputs, mode, transcript, data) -> None:  # noqa: ANN001
    base = _derive(inputs, mode, transcript)
    index = data.draw(st.integers(0, len(inputs) - 1))
    label, secret = inputs[index]
    position = data.draw(st.integers(0, len(secret) - 1))
    bit = data.draw(st.integers(0, 7))
    changed = bytearray(secret)
    changed[position] ^= 1 << bit
    mutated = list(inputs)
    mutated[index] = (label, bytes(changed))
    assert _derive(mutated, mode, transcript) != base


@FAST
@given(inputs_st, modes, transcripts, st.data())
def test_changing_any_label_changes_the_output(inputs, mode, transcript, data) -> None:  # noqa: ANN001
    base = _derive(inputs, mode, transcript)
    index = data.draw(st.integers(0, len(inputs) - 1))
    existing = {label for label, _ in inputs}
    new_label = data.draw(labels.filter(lambda text: text not in existing))
    mutated = list(inputs)
    mutated[index] = (new_label, inputs[index][1])
    assert _derive(mutated, mode, transcript) != base


@FAST
@given(inputs_st, modes, modes, transcripts)
def test_changing_the_mode_changes_the_output(inputs, mode, other, transcript) -> None:  # noqa: ANN001
    if mode != other:
        assert _derive(inputs, mode, transcript) != _derive(inputs, other, transcript)


@FAST
@given(inputs_st, modes, st.binary(min_size=1, max_size=64), st.data())
def test_changing_any_transcript_byte_changes_the_output(inputs, mode, transcript, data) -> None:  # noqa: ANN001
    position = data.draw(st.integers(0, len(transcript) - 1))
    changed = bytearray(transcript)
    changed[position] ^= 1 << data.draw(st.integers(0, 7))
    assert _derive(inputs, mode, transcript) != _derive(inputs, mode, bytes(changed))


@FAST
@given(inputs_st, modes, transcripts)
def test_dropping_an_input_or_reordering_changes_the_output(inputs, mode, transcript) -> None:  # noqa: ANN001
    base = _derive(inputs, mode, transcript)
    if len(inputs) > 1:
        assert _derive(inputs[:-1], mode, transcript) != base
        assert _derive(list(reversed(inputs)), mode, transcript) != base


@FAST
@given(secrets_, secrets_)
def test_moving_bytes_between_adjacent_secrets_changes_the_output(a: bytes, b: bytes) -> None:
    """Same IKM (a‖b), different split: the lengths in the info keep the outputs apart."""
    if len(a) > 1:
        assert _derive([("x", a), ("y", b)]) != _derive([("x", a[:-1]), ("y", a[-1:] + b)])


def test_pqc_only_is_not_the_hybrid_output_with_the_qkd_part_missing() -> None:
    kem_secret = bytes(range(32))
    hybrid = _derive([("x-wing", kem_secret), ("qkd", bytes(32))], mode="hybrid-qkd")
    pqc_only = _derive([("x-wing", kem_secret)], mode="pqc-only")
    same_mode_fewer_inputs = _derive([("x-wing", kem_secret)], mode="hybrid-qkd")
    assert len({hybrid, pqc_only, same_mode_fewer_inputs}) == 3


def test_context_length_salt_and_hash_are_bound() -> None:
    inputs = [("k", b"s" * 32)]
    base = _derive(inputs)
    assert _derive(inputs, context="qshift other") != base
    assert _derive(inputs, length=64)[:32] != base  # length is in the info: not a prefix
    assert _derive(inputs, salt=b"salt") != base
    assert _derive(inputs, hash_name="SHA3-256") != base


def test_output_equals_the_documented_construction_computed_independently() -> None:
    """RFC 5869 HKDF with SHA-256 written out with hmac, on the info layout of the module docstring."""
    inputs = [("ml-kem", b"\x01" * 32), ("qkd", b"\x02" * 16)]
    transcript = b"hello transcript"

    def lp(data: bytes) -> bytes:
        return len(data).to_bytes(2, "big") + data

    info = (
        b"qshift-catkdf-v1" + lp(b"ctx") + lp(b"hybrid-qkd") + (2).to_bytes(2, "big")
        + lp(b"ml-kem") + (32).to_bytes(4, "big") + lp(b"qkd") + (16).to_bytes(4, "big")
        + (40).to_bytes(2, "big") + lp(hashlib.sha256(transcript).digest())
    )
    assert build_info([("ml-kem", 32), ("qkd", 16)], mode="hybrid-qkd", transcript=transcript, context="ctx",
                      length=40) == info
    prk = hmac.new(bytes(32), b"\x01" * 32 + b"\x02" * 16, "sha256").digest()
    t1 = hmac.new(prk, info + b"\x01", "sha256").digest()
    t2 = hmac.new(prk, t1 + info + b"\x02", "sha256").digest()
    expected = (t1 + t2)[:40]
    assert _derive(inputs, transcript=transcript, context="ctx", length=40) == expected
    assert DOMAIN == b"qshift-catkdf-v1"
    assert transcript_hash(transcript) == hashlib.sha256(transcript).digest()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"inputs": []}, "at least one"),
        ({"inputs": [("", b"s")]}, "input 0: empty label"),
        ({"inputs": [("a", b"s"), ("a", b"t")]}, "input 1: duplicate label 'a'"),
        ({"inputs": [("a", b"")]}, r"input 0 \('a'\): empty secret"),
        ({"length": 0}, "length: 0 bytes"),
        ({"length": 255 * 32 + 1}, "length"),
        ({"hash_name": "MD5"}, "hash 'MD5'"),
        ({"mode": ""}, "mode: empty"),
        ({"context": ""}, "context: empty"),
    ],
)
def test_bad_arguments_are_combiner_errors_that_name_the_input(kwargs: dict, message: str) -> None:
    args = {"inputs": [("k", b"Zq9!Zq9!")], "mode": "m", "transcript": b"", "context": "c", "length": 32}
    args.update(kwargs)
    inputs = args.pop("inputs")
    with pytest.raises(CombinerError, match=message) as info:
        derive_session_keys(inputs, **args)
    assert "Zq9!" not in str(info.value)
