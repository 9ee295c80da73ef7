"""Risk policies: deadlines, data shelf life and migration time per scope, exposure weights.

Built-in policies:

``nist``  NIST IR 8547 (initial public draft, Nov 2024), *Transition to Post-Quantum Cryptography
          Standards*, Table 2/4: quantum-vulnerable digital signatures and key establishment at 112 bits
          of classical security are **deprecated after 2030** and **disallowed after 2035**; those at
          ≥ 128 bits are disallowed after 2035. Symmetric AES-128 and SHA-256 stay acceptable.
``cnsa2`` NSA CNSA 2.0 (CSA, Sept 2022; FAQ Dec 2024): ML-KEM-1024, ML-DSA-87, AES-256, SHA-384/512 only;
          software/firmware signing exclusively CNSA 2.0 by 2030; web browsers/servers and cloud services
          by 2033; traditional networking equipment by 2030; everything by 2035.

Mosca's inequality (M. Mosca, "Cybersecurity in an era with quantum computers: will we be ready?",
IEEE S&P 16(5), 2018): data is at risk if ``x + y > z`` where x is the data's shelf life (years),
y the migration time (years) and z the years until a cryptographically relevant quantum computer.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inventory.errors import PolicyError


class Scope(BaseModel):
    """Shelf life and migration time for assets whose location matches ``match`` (fnmatch glob)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    match: str = "*"
    shelf_life_years: float = Field(ge=0)
    migration_years: float = Field(ge=0)


class Deadlines(BaseModel):
    """Years after which quantum-vulnerable algorithms are deprecated / disallowed."""

    model_config = ConfigDict(extra="forbid")
    deprecated_112_bit: int = 2030
    disallowed: int = 2035
    signing: int | None = None
    key_exchange: int | None = None
    network_equipment: int | None = None


class Policy(BaseModel):
    """A complete policy; ``crqc_year`` is the assumed arrival of a cryptographically relevant quantum computer."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    crqc_year: int = 2035
    deadlines: Deadlines = Deadlines()
    scopes: list[Scope] = [Scope(name="default", shelf_life_years=10, migration_years=5)]
    min_symmetric_bits: int = 128
    min_hash_bits: int = 256
    required_kem: list[str] = ["ML-KEM-768", "ML-KEM-1024", "X25519MLKEM768", "SecP256r1MLKEM768",
                               "SecP384r1MLKEM1024", "X-Wing", "mlkem768x25519-sha256", "sntrup761x25519-sha512"]
    required_signature: list[str] = ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"]
    recommended_kem: str = "ML-KEM-768"
    recommended_signature: str = "ML-DSA-65"
    network_facing_weight: int = Field(default=15, ge=0, le=50)
    key_exchange_weight: int = Field(default=10, ge=0, le=50)
    fail_on: list[str] = []

    def scope_for(self, location: str) -> Scope:
        """The first scope whose glob matches ``location`` (the last scope is the fallback)."""
        for s in self.scopes:
            if fnmatch.fnmatch(location, s.match):
                return s
        return self.scopes[-1]


NIST = Policy(
    name="nist",
    description="NIST IR 8547 ipd: 112-bit quantum-vulnerable deprecated after 2030, all disallowed after 2035",
    crqc_year=2035,
    deadlines=Deadlines(deprecated_112_bit=2030, disallowed=2035),
    scopes=[Scope(name="network", match="tls://*", shelf_life_years=10, migration_years=3),
            Scope(name="ssh", match="ssh://*", shelf_life_years=5, migration_years=3),
            Scope(name="default", match="*", shelf_life_years=10, migration_years=5)],
)
CNSA2 = Policy(
    name="cnsa2",
    description="NSA CNSA 2.0: ML-KEM-1024, ML-DSA-87, AES-256, SHA-384+; signing by 2030, web/cloud by 2033, "
                "all by 2035",
    crqc_year=2033,
    deadlines=Deadlines(deprecated_112_bit=2030, disallowed=2035, signing=2030, key_exchange=2033,
                        network_equipment=2030),
    scopes=[Scope(name="network", match="tls://*", shelf_life_years=20, migration_years=5),
            Scope(name="default", match="*", shelf_life_years=20, migration_years=7)],
    min_symmetric_bits=256,
    min_hash_bits=384,
    required_kem=["ML-KEM-1024"],
    required_signature=["ML-DSA-87"],
    recommended_kem="ML-KEM-1024",
    recommended_signature="ML-DSA-87",
)
BUILTIN = {"nist": NIST, "cnsa2": CNSA2}


def builtin_policy(name: str) -> Policy:
    try:
        return BUILTIN[name]
    except KeyError:
        raise PolicyError(f"unknown built-in policy {name!r} (known: {', '.join(BUILTIN)})") from None


def load_policy(name_or_path: str) -> Policy:
    """A built-in policy by name, or a TOML policy file (``deploy/examples/inventory-policy.toml``)."""
    if name_or_path in BUILTIN:
        return BUILTIN[name_or_path]
    p = Path(name_or_path)
    if not p.is_file():
        raise PolicyError(f"{name_or_path}: not a built-in policy ({', '.join(BUILTIN)}) nor a file")
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{p}: {exc}") from None
    base = data.pop("extends", None)
    if base is not None:
        merged = builtin_policy(base).model_dump()
        merged.update(data)
        data = merged
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err.get("loc", ()))
        raise PolicyError(f"{p}: {key}: {err.get('msg')}") from None
