"""The authentication key budget of one link end: what Wegman–Carter authentication spends, and its refill.

Information-theoretic authentication of the classical channel spends secret key (Wegman & Carter, JCSS 22
(1981)): one 128-bit one-time pad per tag and direction. How many tags a block needs depends on the mode
chosen for the link (``AUTH_MODES``):

* ``transcript`` (the default): the channel is deferred (:meth:`ClassicalChannel.checkpoint`): one tag per
  direction per block over the whole transcript — O(1) pads per block, 256 bits of key per block.
* ``per-frame``: one tag per frame and direction — about as many pads as the block has frames (hundreds
  for Cascade), i.e. tens of kbit of key per block.
* ``tls`` / ``signature``: computational authentication (the KMEs' mutual TLS session, or composite
  signatures): no key consumed. Named explicitly, so status never claims information-theoretic security.

:class:`AuthBudget` measures the pads each block used per direction, checks *before* a block starts that
the pool can pay for one more (:meth:`AuthBudget.check_can_start`, else :class:`AuthBudgetExhausted`: the
link stalls rather than dying mid-block), and refills from each delivered key in proportion to the
measured use (:meth:`AuthBudget.refill_from`, identical at both ends because both ends see the same pad
counts and the same key). If refilling would take the whole key, the link consumes more key than it
distils: :class:`AuthBudgetExceeded`. :func:`check_auth_plan` refuses such a configuration at start.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from qkd.errors import QkdError
from qkd.postprocess.channel import WegmanCarterAuth

log = logging.getLogger(__name__)

AUTH_MODES = ("transcript", "per-frame", "tls", "signature")
#: bits per Wegman–Carter pad (one tag of one direction)
PAD_BITS = 128
PAD_BYTES = PAD_BITS // 8
#: pads per direction a per-frame block is assumed to need before one has been measured (Cascade's round
#: trips dominate: measured 350-700 per direction on blocks of 4·10^6-10^7 pulses at 10-25 km)
PER_FRAME_PADS_ESTIMATE = 700
#: the pool is refilled towards this many blocks' worth of measured use
REFILL_BLOCKS = 2


class AuthBudgetExhausted(QkdError, cause="auth-budget"):
    """Too few authentication pads for one more block: the link stalls until the pool is refilled."""


class AuthBudgetExceeded(QkdError, cause="auth-budget-exceeded"):
    """Authentication consumes more key than the link distils: the configuration cannot run."""


def pads_per_block(mode: str, measured: int = 0) -> int:
    """Pads per direction one block needs in ``mode`` (``measured``: the largest use seen so far)."""
    if mode == "transcript":
        return max(1, measured)
    if mode == "per-frame":
        return max(measured, PER_FRAME_PADS_ESTIMATE if measured == 0 else 0)
    return 0


def check_auth_plan(mode: str, expected_secret_bits_per_block: float, link_id: str) -> None:
    """Refuse at start a link whose authentication would consume more key than it distils per block.

    ``expected_secret_bits_per_block``: the closed-form expectation of the delivered key per block (e.g.
    the decoy-state key rate × pulses per block). Raises :class:`AuthBudgetExceeded` naming both figures."""
    if mode not in AUTH_MODES:
        raise QkdError(f"link {link_id!r}: authentication mode {mode!r}: expected one of {', '.join(AUTH_MODES)}")
    cost = 2 * PAD_BITS * pads_per_block(mode)
    if cost and (not math.isfinite(expected_secret_bits_per_block) or expected_secret_bits_per_block <= cost):
        raise AuthBudgetExceeded(
            f"link {link_id!r}: authentication mode {mode!r} needs about {cost} bits of key per block, more than "
            f"the {expected_secret_bits_per_block:.0f} bits a block is expected to distil; use 'transcript' "
            f"authentication or larger blocks")


@dataclass
class AuthCounters:
    """Key spent on and produced for authentication by one end (bits)."""

    consumed_bits: int = 0
    refilled_bits: int = 0
    produced_bits: int = 0      # secret key delivered by the link (the budget's income)
    stalls: int = 0


class AuthBudget:
    """The pad budget of one link end's :class:`WegmanCarterAuth` (see the module docstring).

    Both ends of a link hold one each, built from the same pre-shared pads; their decisions are
    identical because they depend only on pad counts (equal at both ends) and the delivered key."""

    def __init__(self, auth: WegmanCarterAuth, mode: str, link_id: str) -> None:
        if mode not in ("transcript", "per-frame"):
            raise QkdError(f"link {link_id!r}: an authentication budget is for 'transcript' or 'per-frame' "
                           f"Wegman–Carter authentication, not {mode!r}")
        self.auth = auth
        self.mode = mode
        self.link_id = link_id
        self.measured = 0                      # largest per-direction pad use of one block so far
        self.counters = AuthCounters()
        self._before = (0, 0)

    def available(self) -> int:
        """Pads available in the poorer direction."""
        return min(self.auth.pads_available(0), self.auth.pads_available(1))

    def needed(self) -> int:
        """Pads per direction one more block needs (measured use + 25 %, at least the mode's estimate)."""
        return math.ceil(1.25 * pads_per_block(self.mode, self.measured))

    def check_can_start(self) -> None:
        """Raise :class:`AuthBudgetExhausted` unless both directions can pay for one more block."""
        have, need = self.available(), self.needed()
        if have < need:
            self.counters.stalls += 1
            raise AuthBudgetExhausted(f"link {self.link_id!r}: {have} authentication pads left per direction, a "
                                      f"block needs {need}")
        self._before = (self.auth.pads_available(0), self.auth.pads_available(1))

    def block_done(self) -> int:
        """Record the pads the block since :meth:`check_can_start` used; returns its per-direction use."""
        used = max(self._before[0] - self.auth.pads_available(0), self._before[1] - self.auth.pads_available(1), 0)
        self.measured = max(self.measured, used)
        self.counters.consumed_bits += 2 * PAD_BITS * used
        return used

    def refill_from(self, key: bytes, reserve_blocks: int = REFILL_BLOCKS) -> bytes:
        """Top both directions up towards ``max(REFILL_BLOCKS, reserve_blocks)`` blocks of measured use from the
        front of ``key`` (at most half of it: the link keeps delivering while it rebuilds a reserve) and return
        the rest. ``reserve_blocks``: a pipelined link keeps that many blocks in flight, each spending its pads
        at its own checkpoint (both ends pass the same number, so their pad counts stay equal).

        Raises :class:`AuthBudgetExceeded` when one block's measured use alone needs the whole key: the
        link consumes more key than it distils."""
        per_block = 2 * PAD_BYTES * self.measured
        if per_block >= len(key):
            raise AuthBudgetExceeded(
                f"link {self.link_id!r}: a block spent {2 * self.measured} authentication pads "
                f"({8 * per_block} bits) and distilled {8 * len(key)} bits: authentication consumes more key "
                f"than the link distils (mode {self.mode!r})")
        target = max(REFILL_BLOCKS, reserve_blocks) * self.needed()
        take = [max(0, target - self.auth.pads_available(d)) for d in (0, 1)]
        budget_pads = len(key) // 2 // PAD_BYTES
        while take[0] + take[1] > budget_pads:
            take = [t * budget_pads // (take[0] + take[1]) for t in take]
        nbytes = PAD_BYTES * (take[0] + take[1])
        if nbytes == 0:
            self.counters.produced_bits += 8 * len(key)
            return key
        first = PAD_BYTES * take[0]
        self.auth.replenish(key[:first], key[first:nbytes])
        self.counters.refilled_bits += 8 * nbytes
        self.counters.produced_bits += 8 * (len(key) - nbytes)
        log.info("authentication pads refilled from distilled key",
                 extra={"event": "qkd.auth_refill", "link_id": self.link_id, "bits": 8 * nbytes})
        return key[nbytes:]


__all__ = ["AUTH_MODES", "AuthBudget", "AuthBudgetExceeded", "AuthBudgetExhausted", "AuthCounters",
           "PER_FRAME_PADS_ESTIMATE", "check_auth_plan", "pads_per_block"]
