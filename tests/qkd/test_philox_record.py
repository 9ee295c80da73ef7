"""Philox4x32-10 transmitter record: known-answer vectors and random access by slot."""

from __future__ import annotations

import numpy as np

from qkd._native.philox import philox_block, tx_record_at
from qkd.events.record import ArrayTransmitterRecord, PhiloxTransmitterRecord, _thresholds


def test_philox4x32_10_matches_the_random123_known_answers() -> None:
    # Random123 kat_vectors: (counter, key) → output
    ctr = np.array([[0, 0, 0, 0], [0xFFFFFFFF] * 4, [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344]], np.uint32)
    keys = [(0, 0), (0xFFFFFFFF, 0xFFFFFFFF), (0xA4093822, 0x299F31D0)]
    want = [[0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8], [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD],
            [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]]
    for row, key, w in zip(ctr, keys, want, strict=True):
        assert philox_block(row[None, :].copy(), *key)[0].tolist() == w


def _record(n: int = 200_000) -> PhiloxTransmitterRecord:
    return PhiloxTransmitterRecord(seed=42, n_slots=n, period_ps=1000.0, intensities=(0.5, 0.1, 0.0),
                                   intensity_probabilities=(0.7, 0.2, 0.1), p_z=0.8)


def test_record_at_any_slot_equals_the_sequential_record() -> None:
    tx = _record()
    all_b, all_v, all_i = tx.at(np.arange(tx.n_slots))
    pick = np.array([199_999, 3, 77_777, 3, 0])
    b, v, i = tx.at(pick)
    assert (b == all_b[pick]).all() and (v == all_v[pick]).all() and (i == all_i[pick]).all()


def test_record_frequencies_follow_the_configured_probabilities() -> None:
    tx = _record()
    b, v, i = tx.at(np.arange(tx.n_slots))
    n = tx.n_slots
    assert abs((b == 0).mean() - 0.8) < 5 * np.sqrt(0.16 / n)
    assert abs(v.mean() - 0.5) < 5 * np.sqrt(0.25 / n)
    for k, p in enumerate((0.7, 0.2, 0.1)):
        assert abs((i == k).mean() - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_compiled_sent_counts_equal_counts_of_the_materialised_record() -> None:
    tx = _record()
    b, v, i = tx.at(np.arange(tx.n_slots))
    arr = ArrayTransmitterRecord(b, v, i, 1000.0, tx.intensities, tx.intensity_probabilities, tx.p_z)
    assert (tx.sent_counts() == arr.sent_counts()).all()
    assert tx.sent_counts().sum() == tx.n_slots


def test_array_record_round_trips_through_npz(tmp_path) -> None:
    tx = _record(5000)
    b, v, i = tx.at(np.arange(5000))
    ArrayTransmitterRecord(b, v, i, 1000.0, tx.intensities, tx.intensity_probabilities, tx.p_z).save(tmp_path / "a.npz")
    back = ArrayTransmitterRecord.load(tmp_path / "a.npz")
    slots = np.array([0, 17, 4999])
    for x, y in zip(back.at(slots), tx.at(slots), strict=True):
        assert (x == y).all()


def test_record_at_equals_the_scalar_philox_block_mapping() -> None:
    # tx_record_at computes 512 slots at a time in SIMD lanes: same values as the scalar known-answer block
    rng = np.random.default_rng(3)
    slots = np.concatenate([rng.integers(0, 2**40, 3000), np.arange(700), [2**63 - 1, 2**32, 2**32 - 1]])
    slots = slots.astype(np.int64)
    z, cum = _thresholds(0.7, (0.5, 0.2, 0.2, 0.1))
    ctr = np.zeros((slots.size, 4), np.uint32)
    ctr[:, 0] = (slots.astype(np.uint64) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    ctr[:, 1] = (slots.astype(np.uint64) >> np.uint64(32)).astype(np.uint32)
    ctr[:, 2] = 3
    w = philox_block(ctr, 0x12345678, 0x9ABCDEF0)
    b, v, i = tx_record_at(slots, 0x12345678, 0x9ABCDEF0, 3, z, cum)
    assert np.array_equal(b, (w[:, 0] >= z).astype(np.uint8))
    assert np.array_equal(v, (w[:, 1] >> 31).astype(np.uint8))
    assert np.array_equal(i, np.searchsorted(cum, w[:, 2], side="right").astype(np.uint8))


def test_stored_record_sent_counts_are_counted_once_and_handed_out_as_copies() -> None:
    rng = np.random.default_rng(4)
    n = 10_000
    basis = rng.integers(0, 2, n).astype(np.uint8)
    intensity = rng.integers(0, 3, n).astype(np.uint8)
    record = ArrayTransmitterRecord(basis, rng.integers(0, 2, n).astype(np.uint8), intensity, 1000.0,
                                    (0.5, 0.1, 0.0), (0.8, 0.1, 0.1), 0.5)
    expected = np.array([[np.count_nonzero((basis == b) & (intensity == k)) for k in range(3)] for b in range(2)])
    first = record.sent_counts()
    assert np.array_equal(first, expected) and int(first.sum()) == n
    first[0, 0] = -1
    assert np.array_equal(record.sent_counts(), expected)
