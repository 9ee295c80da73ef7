"""BBM92 post-processing up to reconciliation: sifting coincidences, per-basis QBER, an entanglement
witness with finite-statistics bounds (the link's alarm), and the finite-key length.

* **Sifting.** Coincidences (``qkd.events.coincidence``) carry each station's channel basis·2 + bit. Kept:
  the pairs measured in the same basis. Key bits come from Z; every X-basis pair is disclosed to estimate
  the phase error (with ½/½ passive bases, half the pairs are X; biased splitters shift the balance), and
  a random sample of the Z bits (``z_sample_fraction``) estimates the bit error for reconciliation.
* **Entanglement witness.** For any separable two-qubit state ⟨Z⊗Z⟩ + ⟨X⊗X⟩ ≤ 1 (O. Gühne, G. Tóth,
  "Entanglement detection", Phys. Rep. 474, 1 (2009), Sec. 6); with ⟨B⊗B⟩ = 1 − 2E_B the witness is
  violated — entanglement certified — iff E_Z + E_X < ½. With finite samples the certificate uses
  Hoeffding upper bounds Ē_B = E_B + √(ln(2/ε)/(2 n_B)) (each basis at ε/2): entanglement is certified
  at confidence 1 − ε iff Ē_Z + Ē_X < ½. No certificate is an alarm (an intercept-resend attack on
  either arm gives E_Z = E_X = 25 %, exactly the separable boundary). The CHSH value these correlations
  imply for a rotationally symmetric state, S = 2√2 (1 − 2E), is reported beside it (S ≤ 2 at E ≥ 14.6 %).
* **Finite key** ([TLGR12] M. Tomamichel, C. C. W. Lim, N. Gisin, R. Renner, "Tight finite-key analysis
  for quantum cryptography", Nat. Commun. 3, 634 (2012), Eqs. 2–3, entanglement-based BB84 with
  measurement bases of quality q = 1):
  ℓ = ⌊ n (1 − h(e_X + μ)) − λ_EC − log₂(2 / (ε_sec² ε_cor)) ⌋,  μ = √((n + k)/(n k) · (k + 1)/k · ln(2/ε_sec)),
  n the key bits, k the X-basis sample, e_X its error rate, λ_EC the bits reconciliation disclosed; as in
  ``qkd.postprocess.finite_key`` our verification tag discloses max(log₂(2/ε_cor), 128) bits, which
  replaces the ε_cor part of the last term.
* **A link kind.** :class:`Bbm92Block` is the BBM92 side of the per-block protocol's interface
  (:class:`qkd.postprocess.link.KeyBlock`): the link runtime reconciles, verifies, amplifies and delivers it
  like a decoy-BB84 block. Its abort tests, in order: too few pairs for the witness to decide
  (``too-few-counts``: even an error-free sample of that size could not certify entanglement), the witness
  not certified (``witness``, the link's alarm), the Z-sample QBER above the abort threshold (``qber``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from qkd.errors import QkdError
from qkd.events.coincidence import Coincidences
from qkd.physics.entangled import chsh_from_qber
from qkd.postprocess.cascade import binary_entropy
from qkd.postprocess.finite_key import TAG_BITS

Z_BASIS, X_BASIS = 0, 1


class Bbm92Error(QkdError):
    """Too few coincidences, or inconsistent inputs, for a BBM92 block (message says which)."""


@dataclass(frozen=True)
class Bbm92Sifted:
    """A block's sifted BBM92 data. ``alice_key``/``bob_key``: the Z-basis key bits left after the Z
    sample (uint8 0/1, equal length). Counts per basis (index 0 = Z, 1 = X): ``matched`` coincidences
    whose bases agree, ``disclosed`` bits revealed to estimate errors, ``errors`` among them."""

    alice_key: npt.NDArray[np.uint8] = field(repr=False)
    bob_key: npt.NDArray[np.uint8] = field(repr=False)
    coincidences: int
    matched: tuple[int, int]
    disclosed: tuple[int, int]
    errors: tuple[int, int]

    def qber(self, basis: int) -> float:
        """Observed error rate of ``basis`` among its disclosed pairs (NaN when none)."""
        n = self.disclosed[basis]
        return self.errors[basis] / n if n else math.nan

    @property
    def disclosed_bits(self) -> int:
        """Bits revealed on the classical channel for estimation (both stations' values)."""
        return 2 * sum(self.disclosed)


def sift_coincidences(found: Coincidences, z_sample_fraction: float, rng: np.random.Generator) -> Bbm92Sifted:
    """Sift matched-basis coincidences; disclose every X pair and a ``z_sample_fraction`` sample of Z.

    The sample is drawn from ``rng``, which both ends seed alike from the shared block seed."""
    if not 0 <= z_sample_fraction < 1:
        raise Bbm92Error(f"z_sample_fraction must be in [0, 1), got {z_sample_fraction}")
    basis_a = found.alice_channel >> 1
    basis_b = found.bob_channel >> 1
    bit_a = (found.alice_channel & 1).astype(np.uint8)
    bit_b = (found.bob_channel & 1).astype(np.uint8)
    z = np.flatnonzero((basis_a == Z_BASIS) & (basis_b == Z_BASIS))
    x = np.flatnonzero((basis_a == X_BASIS) & (basis_b == X_BASIS))
    sample = rng.random(z.size) < z_sample_fraction
    z_sample, z_key = z[sample], z[~sample]
    errors_z = int(np.count_nonzero(bit_a[z_sample] != bit_b[z_sample]))
    errors_x = int(np.count_nonzero(bit_a[x] != bit_b[x]))
    return Bbm92Sifted(bit_a[z_key], bit_b[z_key], len(found), (int(z.size), int(x.size)),
                       (int(z_sample.size), int(x.size)), (errors_z, errors_x))


def hoeffding_upper(errors: int, n: int, eps: float) -> float:
    """Upper confidence bound on an error rate from ``errors`` of ``n`` (Hoeffding, one-sided, 1 − eps)."""
    if n <= 0:
        return 1.0
    return min(1.0, errors / n + math.sqrt(math.log(1.0 / eps) / (2.0 * n)))


@dataclass(frozen=True)
class WitnessResult:
    """The entanglement test of one block: upper bounds of E_Z and E_X at confidence 1 − ``eps``,
    whether the witness E_Z + E_X < ½ is certified, and the implied CHSH value (point estimate)."""

    qber_z: float
    qber_x: float
    upper_z: float
    upper_x: float
    eps: float
    certified: bool
    chsh: float
    #: whether the sample could certify at all: False when even zero observed errors would leave
    #: Ē_Z + Ē_X ≥ ½ (too few pairs; not evidence of an attack)
    decisive: bool = True

    @property
    def reason(self) -> str:
        if self.certified:
            return ""
        return (f"entanglement not certified: E_Z + E_X ≤ {self.upper_z + self.upper_x:.4f} is not below 0.5 at "
                f"confidence 1 − {self.eps:g} (observed E_Z {self.qber_z:.2%}, E_X {self.qber_x:.2%}, implied "
                f"S = {self.chsh:.3f})")


def entanglement_witness(sifted: Bbm92Sifted, eps: float = 1e-9) -> WitnessResult:
    """Test ⟨ZZ⟩ + ⟨XX⟩ > 1 on the disclosed pairs (module docstring)."""
    ez, ex = sifted.qber(Z_BASIS), sifted.qber(X_BASIS)
    uz = hoeffding_upper(sifted.errors[Z_BASIS], sifted.disclosed[Z_BASIS], eps / 2)
    ux = hoeffding_upper(sifted.errors[X_BASIS], sifted.disclosed[X_BASIS], eps / 2)
    both = [e for e in (ez, ex) if not math.isnan(e)]
    chsh = chsh_from_qber(sum(both) / len(both)) if both else 0.0
    best = (hoeffding_upper(0, sifted.disclosed[Z_BASIS], eps / 2)
            + hoeffding_upper(0, sifted.disclosed[X_BASIS], eps / 2))
    return WitnessResult(ez, ex, uz, ux, eps, uz + ux < 0.5, chsh, best < 0.5)


@dataclass(frozen=True)
class Bbm92KeyLength:
    """ℓ (bits, ≥ 0) of [TLGR12] Eq. 2 and its terms; ``reason`` when ℓ = 0."""

    length: int
    n: int
    k: int
    phase_error: float
    mu: float
    privacy_term: float      # n h(e_X + μ)
    lambda_ec: int
    security_term: float     # 2 log₂(1/ε_sec) + 1  (the ε_sec part of log₂(2/(ε_sec² ε_cor)))
    correctness_term: float  # max(log₂(1/ε_cor), tag bits)
    reason: str = ""


def bbm92_key_length(n: int, k: int, phase_errors: int, lambda_ec: int, eps_sec: float = 1e-10,
                     eps_cor: float = 1e-15, tag_bits: int = TAG_BITS) -> Bbm92KeyLength:
    """Secret bits from ``n`` reconciled key bits, with ``phase_errors`` of ``k`` X-basis pairs observed and
    ``lambda_ec`` bits disclosed by reconciliation ([TLGR12], module docstring)."""
    if n <= 0 or k <= 0:
        return Bbm92KeyLength(0, n, k, math.nan, math.inf, 0.0, lambda_ec, 0.0, 0.0,
                              f"too few coincidences: {n} key bits, {k} X-basis pairs")
    e_x = phase_errors / k
    mu = math.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(2.0 / eps_sec))
    privacy = n * float(binary_entropy(min(0.5, e_x + mu)))
    security = 2.0 * math.log2(1.0 / eps_sec) + 1.0
    correctness = max(math.log2(1.0 / eps_cor), float(tag_bits))
    raw = n - privacy - lambda_ec - security - correctness
    length = max(0, math.floor(raw))
    reason = "" if length > 0 else (
        f"no secret key: {n} bits − {privacy:.0f} (phase error {e_x:.2%} + {mu:.2%}) − {lambda_ec} disclosed − "
        f"{security + correctness:.0f} (ε terms) ≤ 0")
    return Bbm92KeyLength(length, n, k, e_x, mu, privacy, lambda_ec, security, correctness, reason)


@dataclass(frozen=True)
class Bbm92Block:
    """A BBM92 block for the per-block protocol (:class:`qkd.postprocess.link.KeyBlock`): the sifted
    coincidences of both stations and the block's entanglement witness (module docstring)."""

    sifted: Bbm92Sifted
    witness: WitnessResult
    protocol: str = "bbm92"

    @property
    def qber(self) -> float:
        """Bit error rate estimate of the key (Z sample; the X-basis rate when no Z bit was sampled)."""
        z = self.sifted.qber(Z_BASIS)
        return z if not math.isnan(z) else self.sifted.qber(X_BASIS)

    def key_bits(self, role: str) -> np.ndarray:
        return self.sifted.alice_key if role == "alice" else self.sifted.bob_key

    def check(self, *, qber_abort: float, key_length: str) -> tuple[str, str] | None:
        s, w = self.sifted, self.witness
        n, k = int(s.alice_key.size), s.disclosed[X_BASIS]
        if n == 0 or k == 0 or not w.decisive:
            return "too-few-counts", (f"{s.coincidences} coincidences: {n} key bits, {s.disclosed[Z_BASIS]} Z and "
                                      f"{k} X pairs disclosed, too few to test entanglement at confidence "
                                      f"1 − {w.eps:g}")
        if not w.certified:
            return "witness", w.reason
        qber = self.qber
        if not math.isfinite(qber) or qber > qber_abort:
            return "qber", f"QBER estimate {qber:.4f} above the abort threshold {qber_abort}"
        return None

    def secret_length(self, lambda_ec: int, *, key_length: str, eps_sec: float,
                      eps_cor: float) -> tuple[int, str, dict[str, Any]]:
        """ℓ (bits): ``finite`` [TLGR12] Eq. 2 (:func:`bbm92_key_length`), or ``asymptotic``
        n (1 − h(e_X)) − λ_EC − tag bits."""
        s = self.sifted
        n, k, e = int(s.alice_key.size), s.disclosed[X_BASIS], s.errors[X_BASIS]
        if key_length == "finite":
            kl = bbm92_key_length(n, k, e, lambda_ec, eps_sec, eps_cor)
            return kl.length, kl.reason, {"mode": "finite-tlgr12", **asdict(kl)}
        e_x = e / k if k else 0.5
        secret = n * (1.0 - float(binary_entropy(min(e_x, 0.5))))
        length = max(0, math.floor(secret - lambda_ec - TAG_BITS))
        reason = "" if length else f"λ_EC = {lambda_ec} bits exceeds n(1 − h(e_X)) = {secret:.0f}"
        return length, reason, {"mode": "asymptotic", "n": n, "phase_error": e_x, "lambda_ec": lambda_ec,
                                "tag_bits": TAG_BITS, "length": length}

    def report(self) -> dict[str, Any]:
        """The witness and the sifting counts of the block (no key material)."""
        s = self.sifted
        return {**asdict(self.witness), "coincidences": s.coincidences, "matched": list(s.matched),
                "disclosed": list(s.disclosed), "errors": list(s.errors)}


def bbm92_block(found: Coincidences, *, z_sample_fraction: float, seed: int, witness_eps: float = 1e-9) -> Bbm92Block:
    """Sift ``found`` (Z sample drawn from a generator seeded ``seed``, the same at both ends) and test the
    witness: one block for the link runtime."""
    sifted = sift_coincidences(found, z_sample_fraction, np.random.default_rng(seed))
    return Bbm92Block(sifted, entanglement_witness(sifted, witness_eps))


__all__ = ["Bbm92Block", "Bbm92Error", "Bbm92KeyLength", "Bbm92Sifted", "WitnessResult", "bbm92_block",
           "bbm92_key_length", "entanglement_witness", "hoeffding_upper", "sift_coincidences"]
