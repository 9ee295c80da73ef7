"""The token bucket behind the per-source handshake limit and the key-path switch budget."""

from __future__ import annotations

import pytest

from gateway.ratelimit import TokenBucket


def test_a_full_bucket_gives_its_burst_then_one_token_per_refill_interval() -> None:
    bucket = TokenBucket.full(3, 0.5, now=100.0)       # one token every 2 s
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(101.0) is False                 # half a token
    assert bucket.take(102.0) is True                  # the second half arrived
    assert bucket.take(102.0) is False


def test_refill_stops_at_the_burst_and_level_does_not_spend() -> None:
    bucket = TokenBucket.full(2, 10.0, now=0.0)
    assert bucket.take(0.0) and bucket.take(0.0) and not bucket.take(0.0)
    assert bucket.level(60.0) == pytest.approx(2.0)    # an hour idle still holds only the burst
    assert bucket.level(0.05) == pytest.approx(0.5)
    assert bucket.tokens == 0.0                        # level() changed nothing
    assert [bucket.take(60.0) for _ in range(3)] == [True, True, False]
