"""Map findings onto :mod:`pqc.catalogue` entries and merge occurrences into assets.

Only source-specific spellings that the catalogue cannot be expected to carry live here
(:data:`SOURCE_SPELLINGS`: Python/PyCryptodome class names, nginx/OpenSSL curve names, JWK ``kty``
values…); everything else is a catalogue lookup. One :class:`Asset` per catalogue entry (an algorithm
with its parameters, e.g. ``RSA-2048`` or ``ECDH-P256``), per certificate (by fingerprint), per key
and per protocol endpoint; occurrences are merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from inventory.model import AssetType, Finding
from pqc.catalogue import Algorithm, QuantumStatus, UnknownAlgorithmError, by_oid, find, lookup_sized

#: Spellings seen in sources that are not catalogue aliases (lower-case key → catalogue name or alias).
SOURCE_SPELLINGS: dict[str, str] = {
    # Python / PyCryptodome / cryptography class and module names
    "pkcs1_oaep": "RSAES-OAEP",
    "pkcs1_v1_5": "RSA",
    "pkcs1v15": "RSA",
    "oaep": "RSAES-OAEP",
    "pss": "RSASSA-PSS",
    "rsa.generate_private_key": "RSA",
    "ec.generate_private_key": "ECDSA",
    "ecdsa": "ECDSA",
    "dsa.generate_private_key": "DSA",
    "dh.generate_parameters": "DH",
    "arc4": "RC4",
    "des3": "3DES",
    "tripledes": "3DES",
    "triple_des": "3DES",
    "chacha20poly1305": "ChaCha20-Poly1305",
    "x25519": "X25519",
    "ed25519": "Ed25519",
    "ecdh": "ECDH",
    # curve spellings (OpenSSL/nginx/Java/Python ecdsa)
    "nist256p": "P-256",
    "nist384p": "P-384",
    "nist521p": "P-521",
    "secp256r1": "P-256",
    "secp384r1": "P-384",
    "secp521r1": "P-521",
    "prime256v1": "P-256",
    "curvep256": "P-256",
    "curvep384": "P-384",
    "curvep521": "P-521",
    # JWK kty / crv
    "okp": "Ed25519",
    # nginx/openssl group names for hybrids
    "x25519mlkem768": "X25519MLKEM768",
    "secp256r1mlkem768": "SecP256r1MLKEM768",
    "secp384r1mlkem1024": "SecP384r1MLKEM1024",
    # ssh key type names of the ssh-keygen/authorized_keys world
    "rsa-sha2-256-cert-v01@openssh.com": "rsa-sha2-256",
    "ssh-rsa-cert-v01@openssh.com": "ssh-rsa",
    # JOSE (RFC 7518 §3.1) HMAC algorithms
    "hs256": "HMAC-SHA256",
    "hs384": "HMAC-SHA384",
    "hs512": "HMAC-SHA512",
    # OpenSSL NID / EVP_PKEY spellings
    "x9_62_prime256v1": "P-256",
    "evp_pkey_rsa": "RSA",
    "evp_pkey_ec": "ECDSA",
    "evp_pkey_x25519": "X25519",
    "evp_pkey_ed25519": "Ed25519",
    "evp_pkey_dh": "DH",
    "evp_pkey_dsa": "DSA",
    # JCA names without a catalogue alias
    "xdh": "X25519",  # JCA "XDH": X25519 unless a NamedParameterSpec says X448
    "nonewithecdsa": "ECDSA",
    "nonewithrsa": "RSA",
    "nonewithdsa": "DSA",
    "ecdsa-p1363": "ECDSA",
    "rsassa-pss": "RSASSA-PSS",
    "ec": "ECDSA",
    "eddsa": "Ed25519",
    "diffiehellman": "DH",
    "pbewithhmacsha256andaes_256": "PBKDF2",
    "pbewithmd5anddes": "DES-CBC",
    # libsodium / NaCl and Go x/crypto spellings
    "crypto_box": "X25519",
    "crypto_kx": "X25519",
    "crypto_scalarmult": "X25519",
    "crypto_sign": "Ed25519",
    "crypto_generichash": "BLAKE2b-512",
    # TLS protocol versions are protocol assets, not algorithms; no mapping
}

#: Prefixes of certificate / key identifiers in ``Finding.related`` (not algorithm names).
_ID_PREFIXES = ("key:", "cert:", "jwk:", "encrypted-key:")

#: Curve (catalogue ``parameter_set``) → ECDH entry name, for key-exchange uses of a curve.
_ECDH_OF = "ECDH-{}"


def _catalogue_find(spelling: str) -> Algorithm | None:
    if spelling[:1].isdigit() and "." in spelling and spelling.replace(".", "").isdigit():
        return by_oid(spelling)
    alg = find(spelling)
    if alg is not None:
        return alg
    mapped = SOURCE_SPELLINGS.get(spelling.lower())
    if mapped is not None:
        return find(mapped)
    pbe = _PBE.match(spelling)
    if pbe is not None:  # JCA PBE names: PBEWithHmacSHA256AndAES_256 is PBKDF2; PBEWithMD5AndDES is PBES1 over DES
        if pbe.group(1):
            return find("PBKDF2")
        cipher = pbe.group(3).upper()
        return find({"DES": "DES-CBC", "DESEDE": "3DES-CBC", "TRIPLEDES": "3DES-CBC"}.get(cipher, cipher.split("_")[0]))
    sized = _SIZED_MODE.match(spelling)
    if sized is not None:  # camellia-128-cbc, ARIA-256-GCM: the mode entry when the catalogue has no sized one
        alg = find(f"{sized.group(1)}-{sized.group(3)}")
        if alg is not None:
            return alg
    parts = _transformation(spelling)
    if parts is not None:  # a JCA "alg/mode/padding" the catalogue does not spell: mode, then the bare cipher
        base = find(parts[0]) or (find(SOURCE_SPELLINGS[parts[0].lower()])
                                  if parts[0].lower() in SOURCE_SPELLINGS else None)
        if base is not None:
            return find(f"{base.name}-{parts[1]}") or base
    return None


_PBE = re.compile(r"^PBEWith(Hmac)?(\w+?)And(\w+)$", re.IGNORECASE)
_SIZED_MODE = re.compile(r"^([A-Za-z][A-Za-z0-9]*?)[-_]?(128|192|256)[-_]([A-Za-z]+(?:-SIV)?)$")


def known_spelling(spelling: str) -> bool:
    """True if normalisation resolves ``spelling`` to a catalogue entry (scanners use it to keep only real names)."""
    return _catalogue_find(spelling) is not None


def _transformation(raw: str) -> tuple[str, str, str] | None:
    """(algorithm, mode, padding) of a JCA transformation string such as ``AES/CBC/PKCS5Padding``."""
    parts = raw.split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1].upper(), parts[2]


def _curve_entry(curve: str, key_exchange: bool) -> Algorithm | None:
    alg = _catalogue_find(curve)
    if alg is None:
        return None
    if key_exchange and alg.family == "ECDSA" and alg.parameter_set:
        return find(_ECDH_OF.format(alg.parameter_set)) or alg
    return alg


def resolve(finding: Finding) -> Algorithm | None:
    """The catalogue entry a finding refers to, with its parameters applied, or ``None``.

    Order: the raw spelling; then a curve (for EC families) or a key size (``lookup_sized``) refines a
    family-level entry (``RSA`` + 2048 → ``RSA-2048``; ``ECDSA`` + ``P-256`` → ``ECDSA-P256``).
    """
    key_exchange = finding.usage in ("key-exchange", "key-agree")
    alg = _catalogue_find(finding.raw)
    if finding.curve and (alg is None or alg.family in ("ECDSA", "ECDH") and alg.parameter_set is None):
        curved = _curve_entry(finding.curve, key_exchange or (alg is not None and alg.family == "ECDH"))
        if curved is not None:
            return curved
    if alg is None:
        return None
    if key_exchange and alg.family == "ECDSA" and alg.parameter_set:
        alg = find(_ECDH_OF.format(alg.parameter_set)) or alg
    if finding.key_bits and alg.key_bits is None and alg.name in ("RSAES-OAEP", "RSASSA-PSS"):
        sized = find(f"RSA-{finding.key_bits}-{'OAEP' if alg.name == 'RSAES-OAEP' else 'PSS'}")
        if sized is not None:
            return sized
    if finding.key_bits and alg.key_bits is None and alg.family == "DH":
        sized = find(f"DH-{finding.key_bits}")  # a freshly generated group of that size, not a named one
        if sized is not None:
            return sized
    if finding.key_bits and alg.key_bits is None and alg.primitive.value in ("pke", "signature", "key-agree",
                                                                             "block-cipher", "ae"):
        family = alg.family if alg.family != "DH" else "MODP"
        try:
            return lookup_sized(family, finding.key_bits)
        except (UnknownAlgorithmError, KeyError, ValueError):
            try:
                return lookup_sized(alg.name, finding.key_bits)
            except (UnknownAlgorithmError, KeyError, ValueError):
                return alg
    return alg


@dataclass(slots=True)
class Asset:
    """One distinct cryptographic asset and every place it was seen.

    ``key`` identifies it across scans (``algorithm:RSA-2048``, ``certificate:<sha256>``,
    ``protocol:tls://host:port``, ``library:pypi/cryptography``). ``algorithm`` is the catalogue entry
    (``None`` for unknown spellings, certificates and protocols; their parts are in ``related``).
    """

    key: str
    name: str
    asset_type: AssetType
    algorithm: Algorithm | None
    occurrences: list[Finding] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def quantum_status(self) -> QuantumStatus | None:
        return self.algorithm.quantum_status if self.algorithm else None

    @property
    def network_facing(self) -> bool:
        return any(f.network_facing for f in self.occurrences)

    @property
    def confidence(self) -> float:
        return max((f.confidence for f in self.occurrences), default=0.0)

    @property
    def sources(self) -> list[str]:
        return sorted({f.source for f in self.occurrences})


def asset_key(finding: Finding, alg: Algorithm | None) -> tuple[str, str]:
    """(key, display name) of the asset a finding belongs to."""
    if finding.asset_type is AssetType.ALGORITHM:
        if alg is not None:
            return f"algorithm:{alg.name}", alg.name
        return f"algorithm:?{finding.raw.lower()}", finding.raw
    ident = finding.details.get("id") or finding.raw
    return f"{finding.asset_type.value}:{ident}", finding.raw


def _merge_details(into: dict[str, Any], extra: dict[str, Any]) -> None:
    """Union list-valued details (offered suites seen over several connections), keep first scalars; a key
    seen both as a private key and as a public key (in a certificate, a ``.pub``) is a private key."""
    if extra.get("kind") == "private-key" and into.get("kind") == "public-key":
        into["kind"] = "private-key"
        into["format"] = extra.get("format", into.get("format"))
    for k, v in extra.items():
        if k not in into:
            into[k] = v
        elif isinstance(v, list) and isinstance(into[k], list):
            merged = list(into[k])
            merged += [x for x in v if x not in merged]
            into[k] = merged


def private_key_occurrences(asset: Asset) -> list[Finding]:
    """The occurrences of a key asset that hold its private half (a key file, a PKCS#12 store)."""
    return [f for f in asset.occurrences if f.details.get("kind") == "private-key"]


def link_keys_to_certificates(assets: dict[str, Asset]) -> None:
    """One asset for a key and its certificate: a key pair (one ``related-crypto-material`` asset per
    SubjectPublicKeyInfo, holding the private key file and every public copy) is linked both ways with each
    certificate of that public key, wherever in the scan the two were found. The certificate gains the private
    key's locations as occurrences (what to replace when it is reissued) and ``details["private_key"]``; the
    key gains ``details["certificates"]``. The CBOM writes the pair as a private-key and a public-key
    component with the same ``id``, related by ``subjectPublicKeyRef`` and ``dependencies``."""
    for cert in assets.values():
        if cert.asset_type is not AssetType.CERTIFICATE:
            continue
        for ident in cert.related:
            key = assets.get(f"{AssetType.MATERIAL.value}:{ident}") if ident.startswith("key:") else None
            if key is None:
                continue
            cert.details["key"] = key.key
            holders = key.details.setdefault("certificates", [])
            if cert.key not in holders:
                holders.append(cert.key)
            private = private_key_occurrences(key)
            if not private:
                continue
            where = cert.details.setdefault("private_key", [])
            for f in private:
                if str(f.location) not in where:
                    where.append(str(f.location))
                if f not in cert.occurrences:
                    cert.occurrences.append(f)


def normalise(findings: list[Finding]) -> list[Asset]:
    """Resolve every algorithm finding against the catalogue and merge findings into assets.

    Each finding's ``name`` is set to its catalogue name. Certificates, keys and protocols reference
    their algorithms through ``related`` (catalogue names), which become CBOM dependencies.
    """
    assets: dict[str, Asset] = {}
    for f in findings:
        if f.asset_type is AssetType.ALGORITHM and "/" in f.raw:
            parts = _transformation(f.raw)
            if parts is not None:
                f.mode = f.mode or parts[1]
                f.padding = f.padding or parts[2]
        alg = resolve(f) if f.asset_type in (AssetType.ALGORITHM, AssetType.MATERIAL) else None
        if alg is not None:
            f.name = alg.name
        if f.asset_type is AssetType.MATERIAL and alg is not None:
            f.details["algorithm"] = alg.name
        key, display = asset_key(f, alg if f.asset_type is AssetType.ALGORITHM else None)
        asset = assets.get(key)
        if asset is None:
            asset = Asset(key=key, name=display, asset_type=f.asset_type,
                          algorithm=alg, details=dict(f.details))
            assets[key] = asset
        else:
            _merge_details(asset.details, f.details)
        asset.occurrences.append(f)
        related = list(f.related)
        if f.asset_type is AssetType.MATERIAL and alg is not None:
            related.append(alg.name)
        for r in related:
            resolved = None if r.startswith(_ID_PREFIXES) else _catalogue_find(r)
            rname = resolved.name if resolved else r
            if rname not in asset.related:
                asset.related.append(rname)
    link_keys_to_certificates(assets)
    # every related algorithm must exist as an algorithm asset (CBOM dependency targets)
    for asset in list(assets.values()):
        for rname in asset.related:
            if rname.startswith(_ID_PREFIXES):
                continue
            key = f"algorithm:{rname}"
            if key not in assets:
                alg = find(rname)
                assets[key] = Asset(key=key, name=rname, asset_type=AssetType.ALGORITHM, algorithm=alg)
    return sorted(assets.values(), key=lambda a: a.key)
