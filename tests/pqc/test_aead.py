"""AEAD record framing (pqc.aead): nonce construction, nonce-reuse refusal, sequence exhaustion,
the sliding replay window (against a reference model, with hypothesis), tamper rejection, wiping."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from hypothesis import given, settings
from hypothesis import strategies as st

from pqc import errors
from pqc.aead import (
    AES_256_GCM,
    CHACHA20_POLY1305,
    AeadSession,
    Opener,
    ReplayWindow,
    Sealer,
    SessionKeys,
)

ALGORITHMS = [(AES_256_GCM, AESGCM), (CHACHA20_POLY1305, ChaCha20Poly1305)]


def _fresh() -> tuple[bytes, bytes]:
    return os.urandom(32), os.urandom(12)


@pytest.mark.parametrize(("name", "direct"), ALGORITHMS)
def test_frames_use_the_rfc8446_nonce_and_decrypt_with_cryptography_directly(name: str, direct: type) -> None:
    key, iv = _fresh()
    sealer = Sealer(key, iv, algorithm=name)
    for expected_sequence in range(3):
        frame = sealer.seal_frame(b"record %d" % expected_sequence, b"aad")
        sequence = int.from_bytes(frame[:8], "big")
        assert sequence == expected_sequence
        nonce = (int.from_bytes(iv, "big") ^ sequence).to_bytes(12, "big")
        assert direct(key).decrypt(nonce, frame[8:], b"aad") == b"record %d" % sequence


@pytest.mark.parametrize(("name", "direct"), ALGORITHMS)
def test_round_trip_and_every_tampered_byte_is_rejected_without_moving_the_window(name: str, direct: type) -> None:
    key, iv = _fresh()
    sealer, opener = Sealer(key, iv, algorithm=name), Opener(key, iv, algorithm=name)
    frame = sealer.seal_frame(b"payload", b"hdr")
    for position in range(8, len(frame)):  # ciphertext and tag bytes
        tampered = bytearray(frame)
        tampered[position] ^= 0x01
        with pytest.raises(errors.AuthenticationError, match="record 0: authentication failed"):
            opener.open_frame(bytes(tampered), b"hdr")
    with pytest.raises(errors.AuthenticationError):
        opener.open_frame(frame, b"hdx")  # wrong associated data
    renumbered = (1).to_bytes(8, "big") + frame[8:]  # the sequence number is bound through the nonce
    with pytest.raises(errors.AuthenticationError):
        opener.open_frame(renumbered, b"hdr")
    assert opener.window.highest == -1
    assert opener.open_frame(frame, b"hdr") == (0, b"payload")


def test_a_second_sealer_on_the_same_key_and_iv_is_refused() -> None:
    key, iv = _fresh()
    Sealer(key, iv)
    with pytest.raises(errors.NonceReuseError, match="already sealed records"):
        Sealer(key, iv)
    with pytest.raises(errors.NonceReuseError):
        Sealer(bytearray(key), iv, algorithm=CHACHA20_POLY1305)  # same key material, other algorithm
    Sealer(key, os.urandom(12))  # another IV is a fresh nonce space


def test_sealer_numbers_records_itself_and_stops_at_its_limit() -> None:
    key, iv = _fresh()
    sealer = Sealer(key, iv, max_records=3)
    assert [sealer.seal(b"x")[0] for _ in range(3)] == [0, 1, 2]
    assert sealer.records_left == 0
    with pytest.raises(errors.SequenceExhaustedError, match="rekey"):
        sealer.seal(b"x")
    near_end = Sealer(os.urandom(32), iv, initial_sequence=2**64 - 1)
    assert near_end.seal(b"x")[0] == 2**64 - 1
    with pytest.raises(errors.SequenceExhaustedError):
        near_end.seal(b"x")


def test_replay_and_too_old_records_are_refused_reordering_within_the_window_is_accepted() -> None:
    key, iv = _fresh()
    sealer, opener = Sealer(key, iv), Opener(key, iv, window=4)
    frames = [sealer.seal_frame(b"%d" % i) for i in range(8)]
    for index in (1, 0, 3, 2):
        assert opener.open_frame(frames[index])[0] == index
    with pytest.raises(errors.ReplayError, match="sequence 2 was already accepted"):
        opener.open_frame(frames[2])
    assert opener.open_frame(frames[7])[0] == 7
    with pytest.raises(errors.ReplayError, match="older than the replay window"):
        opener.open_frame(frames[3])  # 7 - 3 = 4 >= window
    assert opener.open_frame(frames[5])[0] == 5  # inside the window, never seen


class _ModelWindow:
    """Reference model: accept iff unseen and newer than highest - size."""

    def __init__(self, size: int) -> None:
        self.size, self.seen, self.highest = size, set(), -1

    def offer(self, sequence: int) -> bool:
        if sequence in self.seen or sequence <= self.highest - self.size:
            return False
        self.seen.add(sequence)
        self.highest = max(self.highest, sequence)
        return True


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 70), st.lists(st.integers(0, 200), max_size=120))
def test_replay_window_agrees_with_the_reference_model(size: int, offers: list[int]) -> None:
    window, model = ReplayWindow(size), _ModelWindow(size)
    for sequence in offers:
        try:
            window.check(sequence)
            accepted = True
        except errors.ReplayError:
            accepted = False
        assert accepted == model.offer(sequence), (sequence, size)
        if accepted:
            window.accept(sequence)


def test_window_handles_the_top_of_the_sequence_space() -> None:
    window = ReplayWindow(8)
    window.accept(2**64 - 1)
    with pytest.raises(errors.ReplayError):
        window.check(2**64 - 1)
    with pytest.raises(errors.ReplayError, match="outside"):
        window.check(2**64)


def test_session_keys_split_and_both_directions_work() -> None:
    material = os.urandom(SessionKeys.MATERIAL_SIZE)
    initiator = AeadSession(SessionKeys.from_key_material(material), initiator=True)
    responder = AeadSession(SessionKeys.from_key_material(material), initiator=False)
    assert responder.open_frame(initiator.seal_frame(b"ping")) == (0, b"ping")
    assert initiator.open_frame(responder.seal_frame(b"pong")) == (0, b"pong")
    frame = initiator.seal_frame(b"x")
    with pytest.raises(errors.AuthenticationError):
        initiator.open_frame(frame)  # a reflected frame is under the other direction's key
    keys = SessionKeys.from_key_material(material)
    assert keys.key_i2r == material[:32] and keys.iv_r2i == material[76:]
    assert repr(keys) == "<SessionKeys (redacted)>"
    with pytest.raises(errors.AeadError, match="87 bytes, expected 88"):
        SessionKeys.from_key_material(material[:-1])


def test_wiped_keys_refuse_use_and_reprs_hold_no_key() -> None:
    key, iv = _fresh()
    sealer, opener = Sealer(key, iv), Opener(key, iv)
    frame = sealer.seal_frame(b"x")
    assert key.hex()[:12] not in repr(sealer) + repr(opener)
    sealer.wipe()
    opener.wipe()
    with pytest.raises(errors.KeyWipedError):
        sealer.seal(b"y")
    with pytest.raises(errors.KeyWipedError):
        opener.open_frame(frame)
    assert "wiped" in repr(sealer)


def test_malformed_frames_and_parameters_are_typed_errors() -> None:
    key, iv = _fresh()
    opener = Opener(key, iv)
    with pytest.raises(errors.FrameError, match="frame: 23 bytes"):
        opener.open_frame(bytes(23))
    with pytest.raises(errors.AeadError, match="sealer key: 16 bytes"):
        Sealer(bytes(16), iv)
    with pytest.raises(errors.AeadError, match="opener IV: 8 bytes"):
        Opener(key, bytes(8))
    with pytest.raises(errors.AeadError, match="AEAD algorithm 'AES-128-CBC'"):
        Opener(key, iv, algorithm="AES-128-CBC")
    with pytest.raises(errors.AeadError, match="window size: 0"):
        ReplayWindow(0)


def test_in_order_opening_authenticates_first_then_tells_a_replay_from_a_reordered_frame() -> None:
    key, iv = _fresh()
    sealer, opener = Sealer(key, iv), Opener(key, iv, window=8)
    frames = [sealer.seal_frame(b"%d" % i, b"h") for i in range(12)]
    assert opener.open_frame_in_order(frames[0], b"h") == b"0"
    assert opener.open_frame_in_order(frames[2], b"h") == b"2"       # a gap is fine going forward
    with pytest.raises(errors.OutOfOrderError, match="record 1 arrived after record 2"):
        opener.open_frame_in_order(frames[1], b"h")                   # authentic, never seen, but late
    with pytest.raises(errors.ReplayError, match="sequence 2 was already accepted"):
        opener.open_frame_in_order(frames[2], b"h")
    forged = bytearray(frames[1])
    forged[-1] ^= 0x01
    with pytest.raises(errors.AuthenticationError, match="record 1: authentication failed"):
        opener.open_frame_in_order(bytes(forged), b"h")              # a forgery is a forgery, old number or not
    with pytest.raises(errors.AuthenticationError):
        opener.open_frame_in_order(frames[0], b"other header")
    with pytest.raises(errors.FrameError, match="frame: 9 bytes"):
        opener.open_frame_in_order(frames[1][:9], b"h")
    assert opener.window.highest == 2                                  # none of the refusals moved the window
    assert opener.open_frame_in_order(frames[11], b"h") == b"11"
    with pytest.raises(errors.ReplayError, match="older than the replay window"):
        opener.open_frame_in_order(frames[3], b"h")                   # authentic, unseen, beyond the window

