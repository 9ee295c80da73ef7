"""A token bucket: the one rate limit of the gateway (pre-authentication handshakes per source in
``admission.py``; key-path mode switches per peer in ``keypath.py``).

Up to ``burst`` tokens; it refills continuously at ``rate_per_s`` tokens per second; an action spends one
token, and is refused while fewer than one is left. Times are ``time.monotonic()`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    burst: float
    rate_per_s: float
    tokens: float
    #: when ``tokens`` was last brought up to date (monotonic seconds)
    at: float

    @classmethod
    def full(cls, burst: float, rate_per_s: float, now: float) -> TokenBucket:
        return cls(float(burst), rate_per_s, float(burst), now)

    def level(self, now: float) -> float:
        """Tokens there will be at ``now`` (refilled, capped at ``burst``), without changing the bucket."""
        return min(self.burst, self.tokens + (now - self.at) * self.rate_per_s)

    def take(self, now: float) -> bool:
        """Refill up to ``now``; spend one token and return True if there is one, else return False."""
        self.tokens = self.level(now)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True
