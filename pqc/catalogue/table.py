# ruff: noqa: E501  (data table: one row per line reads better than wrapped rows)
# mypy: disable-error-code="assignment"
"""The catalogue: one table of every algorithm qshift recognises or implements.

Rows are declared family by family below through :class:`pqc.catalogue._build.TableBuilder`,
whose builders apply the security rules of :mod:`pqc.catalogue.security`; nothing else in qshift
holds algorithm constants. :data:`ALGORITHMS` is the table, :data:`SIZED` maps (family, bits) to
the entry that :func:`pqc.catalogue.lookup_sized` returns.

Sources of the values (checked against these documents; tests check them against real objects):
  * OIDs: NIST CSOR (``2.16.840.1.101.3.4.*``: AES, SHA-2/3, SHAKE, HMAC-SHA3, KMAC, ML-KEM,
    ML-DSA, SLH-DSA), RFC 8017 (PKCS #1), RFC 3279/5758 (DSA, ECDSA), RFC 5480 (curves),
    RFC 5639 (brainpool), RFC 8410 (X25519/X448/Ed25519/Ed448), RFC 8103 (ChaCha20-Poly1305),
    RFC 8619 (HKDF), RFC 8702 (SHAKE/KMAC), RFC 8018 (PBKDF2), draft-connolly-cfrg-xwing-kem (X-Wing).
  * TLS code points: IANA "TLS Parameters" registry (Supported Groups, SignatureScheme, Cipher
    Suites); RFC 8446, RFC 7919 (ffdhe), RFC 8422, RFC 8734 (brainpool TLS 1.3),
    draft-ietf-tls-ecdhe-mlkem (X25519MLKEM768 0x11EC, SecP256r1MLKEM768 0x11EB,
    SecP384r1MLKEM1024 0x11ED), draft-ietf-tls-mlkem (0x0200-0x0202), draft-ietf-tls-mldsa
    (0x0904-0x0906).
  * SSH names: IANA "Secure Shell (SSH) Protocol Parameters"; RFC 8731 (curve25519-sha256),
    RFC 8268 (DH group14-18), RFC 8332 (rsa-sha2-*), RFC 5656 (ECDSA/ECDH), RFC 8709 (Ed25519/448),
    draft-ietf-sshm-mlkem-hybrid-kex (mlkem768x25519-sha256), draft-josefsson-ntruprime-ssh
    (sntrup761x25519-sha512).
  * IKEv2 transform type 4: IANA "IKEv2 Parameters"; RFC 3526 (MODP), RFC 5903 (ECP),
    RFC 6954 (brainpool), RFC 8031 (Curve25519/448), draft-ietf-ipsecme-ikev2-mlkem (ML-KEM).
  * Sizes: FIPS 203 Table 3 (ML-KEM), FIPS 204 Table 2 (ML-DSA), FIPS 205 Table 2 (SLH-DSA),
    the Round-4 submissions as packaged by liboqs (FrodoKEM, HQC, Classic McEliece, Falcon),
    RFC 7748/8032 (X25519/X448, Ed25519/Ed448), SEC 1 (uncompressed EC points).
"""

from __future__ import annotations

from pqc.catalogue._build import TableBuilder
from pqc.catalogue.model import Algorithm
from pqc.catalogue.model import Primitive as P
from pqc.catalogue.security import (
    ecc_security_bits,
    grover_bits,
    hash_classical_bits,
    hash_quantum_bits,
    ifc_security_bits,
)

T = TableBuilder()
_NIST_HASH = "2.16.840.1.101.3.4.2."
_NIST_AES = "2.16.840.1.101.3.4.1."
_NIST_SIG = "2.16.840.1.101.3.4.3."
_NIST_KEM = "2.16.840.1.101.3.4.4."
_PKCS1 = "1.2.840.113549.1.1."

# ---------------------------------------------------------------------------------------------
# Hash functions and XOFs
# ---------------------------------------------------------------------------------------------
T.broken(
    "MD5", "MD5", P.HASH, 18, hash_quantum_bits(128), output_bytes=16,
    aliases=("md5", "crypto/md5", "md5.New", "md5.Sum"), oids=("1.2.840.113549.2.5",),
    standards=("RFC 1321", "RFC 6151"),
    notes="Collisions in about 2^18 compressions (Xie, Liu and Feng 2013); chosen-prefix collisions used in "
    "the wild (Flame, 2012).",
)
T.broken(
    "SHA-1", "SHA-1", P.HASH, 61, hash_quantum_bits(160), output_bytes=20,
    aliases=("SHA1", "SHA", "crypto/sha1", "sha1.New", "sha1.Sum"), oids=("1.3.14.3.2.26",),
    standards=("FIPS 180-4", "NIST SP 800-131A Rev. 2"),
    notes="SHAttered (2017) and chosen-prefix collisions at 2^63.4 (Leurent-Peyrin 2020); "
    "identical-prefix about 2^61.",
)
for _bits, _oid, _extra in (
    (224, "4", ("sha256.New224", "sha256.Sum224")),
    (256, "1", ("crypto/sha256", "sha256.New", "sha256.Sum256")),
    (384, "2", ("sha512.New384", "sha512.Sum384")),
    (512, "3", ("crypto/sha512", "sha512.New", "sha512.Sum512")),
):
    T.symmetric(
        f"SHA-{_bits}", "SHA-2", P.HASH, hash_classical_bits(_bits), hash_quantum_bits(_bits),
        output_bytes=_bits // 8, oids=(_NIST_HASH + _oid,),
        aliases=(f"SHA{_bits}", f"SHA2-{_bits}", *_extra),
        nist_category={256: 2, 384: 4}.get(_bits), standards=("FIPS 180-4",),
    )
for _bits, _oid in ((224, "5"), (256, "6")):
    T.symmetric(
        f"SHA-512/{_bits}", "SHA-2", P.HASH, hash_classical_bits(_bits), hash_quantum_bits(_bits),
        output_bytes=_bits // 8, oids=(_NIST_HASH + _oid,),
        aliases=(f"SHA512/{_bits}", f"SHA512-{_bits}", f"SHA2-512/{_bits}"),
        standards=("FIPS 180-4",),
    )
for _bits, _oid in ((224, "7"), (256, "8"), (384, "9"), (512, "10")):
    T.symmetric(
        f"SHA3-{_bits}", "SHA-3", P.HASH, hash_classical_bits(_bits), hash_quantum_bits(_bits),
        output_bytes=_bits // 8, oids=(_NIST_HASH + _oid,),
        aliases=(f"sha3_{_bits}", f"sha3.New{_bits}", f"sha3.Sum{_bits}"),
        nist_category={256: 2, 384: 4}.get(_bits), standards=("FIPS 202",),
    )
for _sec, _oid in ((128, "11"), (256, "12")):
    # security c/2 = _sec for capacity c; quantum: BHT on the 2*_sec-bit collision bound.
    T.symmetric(
        f"SHAKE{_sec}", "SHA-3", P.XOF, _sec, hash_quantum_bits(2 * _sec),
        oids=(_NIST_HASH + _oid,), aliases=(f"shake_{_sec}", f"id-shake{_sec}"),
        standards=("FIPS 202", "RFC 8702"),
        notes="Output length is chosen by the caller; figures assume an output of at least 2x the security.",
    )
T.symmetric(
    "BLAKE2b-512", "BLAKE2", P.HASH, 256, hash_quantum_bits(512), output_bytes=64,
    aliases=("BLAKE2b", "blake2b512"), standards=("RFC 7693",),
)
T.symmetric(
    "BLAKE2s-256", "BLAKE2", P.HASH, 128, hash_quantum_bits(256), output_bytes=32,
    aliases=("BLAKE2s", "blake2s256"), standards=("RFC 7693",),
)

# ---------------------------------------------------------------------------------------------
# MACs and KDFs. Classical figure: PRF strength = output bits (capped at 256, keys are rarely
# longer); quantum: Grover on the key, half of that.
# ---------------------------------------------------------------------------------------------
T.symmetric(
    "HMAC", "HMAC", P.MAC, 128, 64, aliases=("crypto/hmac", "hmac.New"), standards=("RFC 2104", "FIPS 198-1"),
    notes="Hash unknown: figures assume the weakest common choice, HMAC-MD5.",
)
T.symmetric(
    "HMAC-MD5", "HMAC", P.MAC, 128, 64, output_bytes=16, components=("MD5",),
    oids=("1.3.6.1.5.5.8.1.1",), aliases=("HmacMD5",),
    ssh_names=("hmac-md5", "hmac-md5-96", "hmac-md5-etm@openssh.com", "hmac-md5-96-etm@openssh.com"), standards=("RFC 2104", "RFC 6151"),
    notes="Not broken as a PRF (RFC 6151) but deprecated; policy should flag the MD5.",
)
T.symmetric(
    "HMAC-SHA1", "HMAC", P.MAC, 160, 80, output_bytes=20, components=("SHA-1",),
    oids=("1.2.840.113549.2.7",), aliases=("HmacSHA1", "hmacWithSHA1", "HMAC-SHA-1"),
    ssh_names=("hmac-sha1", "hmac-sha1-96", "hmac-sha1-etm@openssh.com", "hmac-sha1-96-etm@openssh.com"), standards=("RFC 2104",),
    notes="HMAC does not need collision resistance; SHA-1 collisions do not break it.",
)
for _bits, _oid, _ssh in (
    (224, "1.2.840.113549.2.8", ()),
    (256, "1.2.840.113549.2.9", ("hmac-sha2-256", "hmac-sha2-256-etm@openssh.com")),
    (384, "1.2.840.113549.2.10", ()),
    (512, "1.2.840.113549.2.11", ("hmac-sha2-512", "hmac-sha2-512-etm@openssh.com")),
):
    _strength = min(_bits, 256)
    T.symmetric(
        f"HMAC-SHA{_bits}", "HMAC", P.MAC, _strength, grover_bits(_strength), output_bytes=_bits // 8,
        components=(f"SHA-{_bits}",), oids=(_oid,), ssh_names=_ssh,
        aliases=(f"HmacSHA{_bits}", f"hmacWithSHA{_bits}", f"HMAC-SHA-{_bits}"),
        standards=("RFC 2104", "RFC 4231", "FIPS 198-1"),
    )
for _bits, _oid in ((224, "13"), (256, "14"), (384, "15"), (512, "16")):
    _strength = min(_bits, 256)
    T.symmetric(
        f"HMAC-SHA3-{_bits}", "HMAC", P.MAC, _strength, grover_bits(_strength), output_bytes=_bits // 8,
        components=(f"SHA3-{_bits}",), oids=(_NIST_HASH + _oid,),
        aliases=(f"HmacSHA3-{_bits}", f"id-hmacWithSHA3-{_bits}"), standards=("FIPS 198-1", "FIPS 202"),
    )
for _sec, _oid in ((128, "19"), (256, "20")):
    T.symmetric(
        f"KMAC{_sec}", "KMAC", P.MAC, _sec, grover_bits(_sec), oids=(_NIST_HASH + _oid,),
        aliases=(f"KMAC-{_sec}", f"id-KMACWithSHAKE{_sec}"), standards=("NIST SP 800-185", "RFC 8702"),
    )
for _tag in (64, 128):
    T.symmetric(
        f"UMAC-{_tag}", "UMAC", P.MAC, _tag, min(_tag, grover_bits(128)), key_bits=128, output_bytes=_tag // 8,
        ssh_names=(f"umac-{_tag}@openssh.com", f"umac-{_tag}-etm@openssh.com"), standards=("RFC 4418",),
        notes="Classical figure: forgery bound of the tag length; quantum: min(tag, Grover on the 128-bit key).",
    )
T.symmetric(
    "AES-CMAC", "CMAC", P.MAC, 128, 64, output_bytes=16, aliases=("CMAC", "AESCMAC"),
    standards=("NIST SP 800-38B", "RFC 4493"), notes="Figures for a 128-bit AES key.",
)
T.symmetric(
    "HKDF", "HKDF", P.KDF, 160, 80, aliases=("crypto/hkdf", "hkdf.New", "hkdf.Key"), standards=("RFC 5869",),
    notes="Hash unknown: figures assume HKDF-SHA1.",
)
for _bits, _oid in ((256, "28"), (384, "29"), (512, "30")):
    _strength = min(_bits, 256)
    T.symmetric(
        f"HKDF-SHA{_bits}", "HKDF", P.KDF, _strength, grover_bits(_strength),
        components=(f"SHA-{_bits}",), oids=(f"1.2.840.113549.1.9.16.3.{_oid}",),
        aliases=(f"id-alg-hkdf-with-sha{_bits}", f"HKDF-SHA-{_bits}"),
        standards=("RFC 5869", "RFC 8619", "NIST SP 800-56C Rev. 2"),
    )
T.symmetric(
    "PBKDF2", "PBKDF2", P.KDF, 160, 80, oids=("1.2.840.113549.1.5.12",),
    aliases=("id-PBKDF2", "crypto/pbkdf2", "pbkdf2.Key", "pbkdf2_hmac", "PBKDF2WithHmacSHA1", "PBKDF2WithHmacSHA256",
             "PBKDF2WithHmacSHA512"),
    standards=("RFC 8018", "NIST SP 800-132"),
    notes="Figures are the PRF's (worst case HMAC-SHA1); in practice the password's entropy bounds security.",
)

# ---------------------------------------------------------------------------------------------
# Block ciphers, modes, stream ciphers, AEADs
# ---------------------------------------------------------------------------------------------
T.symmetric(
    "AES", "AES", P.BLOCK_CIPHER, 128, 64, aliases=("Rijndael", "crypto/aes", "aes.NewCipher"),
    standards=("FIPS 197",), notes="Key size unknown: figures assume AES-128 (worst case).",
)
# mode → (primitive, NIST OID arc offset or None, JCA transformation, SSH names suffix)
_AES_MODES: dict[str, tuple[P, int | None, str | None]] = {
    "ECB": (P.BLOCK_CIPHER, 1, "NoPadding"),
    "CBC": (P.BLOCK_CIPHER, 2, "NoPadding"),
    "OFB": (P.BLOCK_CIPHER, 3, "NoPadding"),
    "CFB": (P.BLOCK_CIPHER, 4, "NoPadding"),
    "KW": (P.BLOCK_CIPHER, 5, "NoPadding"),
    "GCM": (P.AE, 6, "NoPadding"),
    "CCM": (P.AE, 7, None),
    "KWP": (P.BLOCK_CIPHER, 8, "NoPadding"),
    "CTR": (P.BLOCK_CIPHER, None, None),
    "OCB": (P.AE, None, None),
    "GCM-SIV": (P.AE, None, None),
}
_AES_MODE_STANDARDS = {
    "ECB": "NIST SP 800-38A", "CBC": "NIST SP 800-38A", "OFB": "NIST SP 800-38A", "CFB": "NIST SP 800-38A",
    "CTR": "NIST SP 800-38A", "GCM": "NIST SP 800-38D", "CCM": "NIST SP 800-38C", "KW": "NIST SP 800-38F",
    "KWP": "NIST SP 800-38F", "OCB": "RFC 7253", "GCM-SIV": "RFC 8452",
}
# generic (size unknown) modes with the spellings code uses without a key size
_AES_GENERIC_MODE_ALIASES: dict[str, tuple[str, ...]] = {
    "ECB": ("AES/ECB/PKCS5Padding", "AES/ECB/NoPadding", "AES/ECB"),
    "CBC": ("AES/CBC/PKCS5Padding", "AES/CBC/NoPadding", "AES/CBC"),
    "OFB": ("AES/OFB/NoPadding",),
    "CFB": ("AES/CFB/NoPadding",),
    "KW": ("AESWrap", "AES/KW/NoPadding"),
    "GCM": ("AES/GCM/NoPadding", "AES/GCM", "AESGCM", "cipher.NewGCM"),
    "CCM": ("AESCCM",),
    "KWP": ("AESWrapPad", "AES/KWP/NoPadding"),
    "CTR": ("AES/CTR/NoPadding", "cipher.NewCTR"),
    "OCB": ("AESOCB3",),
    "GCM-SIV": ("AESGCMSIV",),
}
for _mode, (_prim, _, _) in _AES_MODES.items():
    T.symmetric(
        f"AES-{_mode}", "AES", _prim, 128, 64, mode=_mode, components=("AES",),
        aliases=_AES_GENERIC_MODE_ALIASES[_mode], standards=("FIPS 197", _AES_MODE_STANDARDS[_mode]),
        notes="Key size unknown: figures assume AES-128 (worst case).",
    )
_AES_SSH = {
    (128, "CTR"): ("aes128-ctr",), (192, "CTR"): ("aes192-ctr",), (256, "CTR"): ("aes256-ctr",),
    (128, "CBC"): ("aes128-cbc",), (192, "CBC"): ("aes192-cbc",), (256, "CBC"): ("aes256-cbc", "rijndael-cbc@lysator.liu.se"),
    (128, "GCM"): ("aes128-gcm@openssh.com",), (256, "GCM"): ("aes256-gcm@openssh.com",),
}
_AES_OSSL_OID_NAMES = {"GCM": "GCM", "CCM": "CCM", "KW": "wrap", "KWP": "wrap-pad"}
for _k, _arc in ((128, 0), (192, 20), (256, 40)):
    T.key_search(
        f"AES-{_k}", "AES", P.BLOCK_CIPHER, _k, aliases=(f"AES{_k}", f"AES_{_k}"),
        nist_category={128: 1, 192: 3, 256: 5}[_k], standards=("FIPS 197",),
    )
    for _mode, (_prim, _off, _jca_pad) in _AES_MODES.items():
        _aliases = [f"AES{_k}-{_mode}", f"AES_{_k}_{_mode}".replace("-", "_")]
        if _jca_pad is not None:
            _aliases.append(f"AES_{_k}/{_mode}/{_jca_pad}")
        if _mode in _AES_OSSL_OID_NAMES:
            _aliases.append(f"id-aes{_k}-{_AES_OSSL_OID_NAMES[_mode]}")
        T.key_search(
            f"AES-{_k}-{_mode}", "AES", _prim, _k, mode=_mode, components=(f"AES-{_k}",),
            oids=(f"{_NIST_AES}{_arc + _off}",) if _off is not None else (),
            aliases=tuple(_aliases), ssh_names=_AES_SSH.get((_k, _mode), ()),
            nist_category={128: 1, 192: 3, 256: 5}[_k],
            standards=("FIPS 197", _AES_MODE_STANDARDS[_mode]),
            notes="ECB leaks equal plaintext blocks; policy should flag it." if _mode == "ECB" else "",
        )
for _k in (128, 256):
    T.key_search(
        f"Camellia-{_k}", "Camellia", P.BLOCK_CIPHER, _k, aliases=(f"CAMELLIA{_k}", f"CAMELLIA_{_k}"),
        standards=("RFC 3713",),
    )
T.key_search(
    "ChaCha20", "ChaCha20", P.STREAM_CIPHER, 256, aliases=("chacha20.NewUnauthenticatedCipher",),
    standards=("RFC 8439",),
)
T.key_search(
    "ChaCha20-Poly1305", "ChaCha20", P.AE, 256, oids=("1.2.840.113549.1.9.16.3.18",),
    aliases=("ChaCha20Poly1305", "CHACHA20_POLY1305", "chacha20poly1305.New", "id-alg-AEADChaCha20Poly1305"),
    ssh_names=("chacha20-poly1305@openssh.com",), standards=("RFC 8439", "RFC 8103"),
)
T.key_search(
    "XChaCha20-Poly1305", "ChaCha20", P.AE, 256, aliases=("XChaCha20Poly1305", "chacha20poly1305.NewX"),
    standards=("draft-irtf-cfrg-xchacha",),
)
T.broken(
    "3DES", "3DES", P.BLOCK_CIPHER, 112, grover_bits(168), key_bits=168,
    aliases=("TDEA", "DESede", "DES-EDE3", "TripleDES", "Triple-DES", "3DES_EDE", "des.NewTripleDESCipher"),
    standards=("NIST SP 800-67 Rev. 2 (withdrawn)", "NIST SP 800-131A Rev. 2"),
    notes="64-bit block: birthday-bound plaintext recovery (Sweet32, CCS 2016); NIST disallows TDEA "
    "encryption after 2023. 112 bits is the meet-in-the-middle figure for three keys (80 for two).",
)
T.broken(
    "3DES-CBC", "3DES", P.BLOCK_CIPHER, 112, grover_bits(168), key_bits=168, mode="CBC", components=("3DES",),
    oids=("1.2.840.113549.3.7",),
    aliases=("des-ede3-cbc", "DESede/CBC/PKCS5Padding", "DESede/CBC/NoPadding", "3DES_EDE_CBC", "DES-CBC3"),
    ssh_names=("3des-cbc",), standards=("NIST SP 800-67 Rev. 2 (withdrawn)", "RFC 2630"),
)
T.broken(
    "DES", "DES", P.BLOCK_CIPHER, 56, grover_bits(56), key_bits=56,
    aliases=("des.NewCipher", "DEA"), standards=("FIPS 46-3 (withdrawn)",),
    notes="56-bit key, exhaustively searched since 1998 (EFF Deep Crack).",
)
T.broken(
    "DES-CBC", "DES", P.BLOCK_CIPHER, 56, grover_bits(56), key_bits=56, mode="CBC", components=("DES",),
    oids=("1.3.14.3.2.7",), aliases=("DES/CBC/PKCS5Padding", "DES/CBC/NoPadding", "DES_CBC", "desCBC"),
    ssh_names=("des-cbc",), standards=("FIPS 81 (withdrawn)",),
)
T.broken(
    "RC4", "RC4", P.STREAM_CIPHER, None, 0, key_bits=128, oids=("1.2.840.113549.3.4",),
    aliases=("ARCFOUR", "ARC4", "RC4_128", "crypto/rc4", "rc4.NewCipher"),
    ssh_names=("arcfour", "arcfour128", "arcfour256"), standards=("RFC 7465",),
    notes="Keystream biases allow plaintext recovery (AlFardan et al. 2013); prohibited in TLS by RFC 7465. "
    "No meaningful bit figure: 0.",
)
T.broken(
    "Blowfish", "Blowfish", P.BLOCK_CIPHER, 128, grover_bits(128), key_bits=128, aliases=("BF", "bf-cbc"),
    ssh_names=("blowfish-cbc",),
    notes="64-bit block: birthday-bound attacks (Sweet32) after about 2^32 blocks under one key; "
    "figures for a 128-bit key.",
)

# ---------------------------------------------------------------------------------------------
# RSA (by modulus size), DSA, finite-field DH
# ---------------------------------------------------------------------------------------------
T.shor(
    "RSA", "RSA", P.PKE, None, oids=(_PKCS1 + "1",),
    aliases=("rsaEncryption", "crypto/rsa", "rsa.GenerateKey", "RSA/ECB/PKCS1Padding", "RSAES-PKCS1-v1_5"),
    standards=("RFC 8017",), notes="Modulus size unknown; resolve the size with lookup_sized('RSA', bits).",
)
T.shor(
    "RSAES-OAEP", "RSA", P.PKE, None, components=("RSA",), oids=(_PKCS1 + "7",),
    aliases=("id-RSAES-OAEP", "RSA-OAEP", "RSA/ECB/OAEPWithSHA-256AndMGF1Padding",
             "RSA/ECB/OAEPWithSHA-1AndMGF1Padding", "RSA/ECB/OAEPPadding", "rsa.EncryptOAEP"),
    standards=("RFC 8017",),
)
RSA_SIZES = (512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 7680, 8192, 15360)
for _n in RSA_SIZES:
    _kw = dict(
        key_bits=_n, public_key_bytes=_n // 8, ciphertext_bytes=_n // 8, signature_bytes=_n // 8,
        aliases=(f"RSA{_n}", f"rsa:{_n}", f"RSA_{_n}"), standards=("RFC 8017", "NIST SP 800-57 Part 1 Rev. 5"),
    )
    if _n <= 768:
        T.broken(
            f"RSA-{_n}", "RSA", P.PKE, ifc_security_bits(_n), 0,
            notes=f"RSA-{_n}-class moduli have been factored (RSA-155 in 1999, RSA-768 in 2009).", **_kw,
        )
    else:
        T.shor(f"RSA-{_n}", "RSA", P.PKE, ifc_security_bits(_n), **_kw)

T.shor(
    "DSA", "DSA", P.SIGNATURE, None, oids=("1.2.840.10040.4.1",), aliases=("id-dsa", "dsaEncryption", "crypto/dsa", "DSS"),
    standards=("FIPS 186-4",), notes="FIPS 186-5 no longer approves DSA for signature generation.",
)
for _l, _nn in ((1024, 160), (2048, 256), (3072, 256)):
    T.shor(
        f"DSA-{_l}", "DSA", P.SIGNATURE, ifc_security_bits(_l), key_bits=_l, parameter_set=f"L={_l},N={_nn}",
        public_key_bytes=_l // 8, private_key_bytes=_nn // 8, signature_bytes=2 * _nn // 8,
        aliases=(f"DSA{_l}",), standards=("FIPS 186-4",),
        notes="signature_bytes is r||s; DER adds up to 8 bytes.",
    )

T.shor(
    "DH", "DH", P.KEY_AGREE, None, oids=("1.2.840.113549.1.3.1", "1.2.840.10046.2.1"),
    aliases=("DHE", "FFDH", "FFDHE", "Diffie-Hellman", "DiffieHellman", "dhKeyAgreement", "dhpublicnumber", "EDH"),
    ssh_names=("diffie-hellman-group-exchange-sha1", "diffie-hellman-group-exchange-sha256"),
    standards=("PKCS #3", "ANSI X9.42", "RFC 4419"), notes="Group size unknown.",
)
# (group number, bits, SSH kex names, defining RFC)
_MODP = (
    (1, 768, (), "RFC 2409"),
    (2, 1024, ("diffie-hellman-group1-sha1",), "RFC 2409"),
    (5, 1536, (), "RFC 3526"),
    (14, 2048, ("diffie-hellman-group14-sha1", "diffie-hellman-group14-sha256"), "RFC 3526"),
    (15, 3072, ("diffie-hellman-group15-sha512",), "RFC 3526"),
    (16, 4096, ("diffie-hellman-group16-sha512",), "RFC 3526"),
    (17, 6144, ("diffie-hellman-group17-sha512",), "RFC 3526"),
    (18, 8192, ("diffie-hellman-group18-sha512",), "RFC 3526"),
)
for _g, _n, _ssh, _rfc in _MODP:
    _kw = dict(
        key_bits=_n, parameter_set=f"MODP group {_g}", public_key_bytes=_n // 8, shared_secret_bytes=_n // 8,
        aliases=(f"modp{_n}", f"dh-group{_g}", f"Oakley group {_g}", f"IKE group {_g}"),
        ike_groups=(_g,), ssh_names=_ssh, standards=(_rfc, "RFC 8268") if _ssh else (_rfc,),
    )
    if _n <= 768:
        T.broken(f"MODP-{_n}", "DH", P.KEY_AGREE, ifc_security_bits(_n), 0,
                 notes="768-bit discrete logs are within academic reach (Logjam, CCS 2015).", **_kw)
    else:
        T.shor(f"MODP-{_n}", "DH", P.KEY_AGREE, ifc_security_bits(_n), **_kw)
for _i, _n in enumerate((2048, 3072, 4096, 6144, 8192)):
    T.shor(
        f"ffdhe{_n}", "DH", P.KEY_AGREE, ifc_security_bits(_n), key_bits=_n, parameter_set=f"ffdhe{_n}",
        public_key_bytes=_n // 8, shared_secret_bytes=_n // 8, tls_groups=(0x0100 + _i,),
        standards=("RFC 7919",),
    )

# ---------------------------------------------------------------------------------------------
# Elliptic curves: ECDSA and ECDH per named curve; X25519/X448; Ed25519/Ed448.
# Bare curve names (P-256, secp256r1, prime256v1, elliptic.P256) and the curve OID resolve to the
# ECDSA entry, since certificates carry them; the key-agreement use is ECDH-<curve>, which owns the
# TLS group, IKE group and SSH kex name. Both have the same quantum status and strength.
# ---------------------------------------------------------------------------------------------
T.shor(
    "ECDSA", "ECDSA", P.SIGNATURE, None, oids=("1.2.840.10045.2.1",),
    aliases=("EC", "id-ecPublicKey", "ecPublicKey", "crypto/ecdsa", "ecdsa.GenerateKey", "ECC"),
    standards=("FIPS 186-5", "RFC 5480"), notes="Curve unknown.",
)
T.shor(
    "ECDH", "ECDH", P.KEY_AGREE, None, oids=("1.3.132.1.12",),
    aliases=("ECDHE", "id-ecDH", "crypto/ecdh"), standards=("NIST SP 800-56A Rev. 3", "RFC 5480"),
    notes="Curve unknown.",
)
# (short, curve aliases, OID, order bits, field bytes, TLS group(s), IKE group, SSH host-key, SSH kex,
#  TLS 1.3 signature scheme, Go names (ECDSA side, ECDH side), standard)
_CURVES = (
    ("P-224", ("P224", "NIST224p", "secp224r1", "NIST P-224", "elliptic.P224"), "1.3.132.0.33", 224, 28, (0x0015,), 26,
     (), (), None, (), "FIPS 186-5"),
    ("P-256", ("P256", "NIST256p", "secp256r1", "prime256v1", "NIST P-256", "elliptic.P256"), "1.2.840.10045.3.1.7", 256, 32,
     (0x0017,), 19, ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
                     "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
                     "webauthn-sk-ecdsa-sha2-nistp256@openssh.com"), ("ecdh-sha2-nistp256",), None, ("ecdh.P256", "tls.CurveP256"),
     "FIPS 186-5"),
    ("P-384", ("P384", "NIST384p", "secp384r1", "NIST P-384", "elliptic.P384"), "1.3.132.0.34", 384, 48, (0x0018,), 20,
     ("ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384-cert-v01@openssh.com"), ("ecdh-sha2-nistp384",), None, ("ecdh.P384", "tls.CurveP384"), "FIPS 186-5"),
    ("P-521", ("P521", "NIST521p", "secp521r1", "NIST P-521", "elliptic.P521"), "1.3.132.0.35", 521, 66, (0x0019,), 21,
     ("ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521-cert-v01@openssh.com"), ("ecdh-sha2-nistp521",), None, ("ecdh.P521", "tls.CurveP521"), "FIPS 186-5"),
    ("secp256k1", (), "1.3.132.0.10", 256, 32, (0x0016,), None, (), (), None,
     (), "SEC 2"),
    ("brainpoolP256r1", (), "1.3.36.3.3.2.8.1.1.7", 256, 32, (0x001A, 0x001F),
     28, (), (), 0x081A, (), "RFC 5639"),
    ("brainpoolP384r1", (), "1.3.36.3.3.2.8.1.1.11", 384, 48,
     (0x001B, 0x0020), 29, (), (), 0x081B, (), "RFC 5639"),
    ("brainpoolP512r1", (), "1.3.36.3.3.2.8.1.1.13", 512, 64,
     (0x001C, 0x0021), 30, (), (), 0x081C, (), "RFC 5639"),
)
EC_CURVE_ENTRIES: dict[str, tuple[str, str]] = {}  # parameter_set → (ECDSA name, ECDH name)
for (_c, _caliases, _oid, _order, _fb, _tls, _ike, _ssh_host, _ssh_kex, _sigscheme, _go_ecdh, _std) in _CURVES:
    _compact = _c.replace("-", "")
    _ecdsa, _ecdh = f"ECDSA-{_compact}", f"ECDH-{_compact}"
    EC_CURVE_ENTRIES[_c] = (_ecdsa, _ecdh)
    _curve_aliases = (_c, *_caliases)
    T.shor(
        _ecdsa, "ECDSA", P.SIGNATURE, ecc_security_bits(_order), key_bits=_order, parameter_set=_c,
        public_key_bytes=1 + 2 * _fb, private_key_bytes=(_order + 7) // 8, signature_bytes=2 * ((_order + 7) // 8),
        oids=(_oid,), aliases=_curve_aliases,
        ssh_names=_ssh_host, tls_signature_schemes=(_sigscheme,) if _sigscheme else (),
        standards=(_std, "FIPS 186-5", "SEC 1"),
        notes="public_key_bytes is the uncompressed SEC 1 point; signature_bytes is r||s (DER adds up to 9).",
    )
    T.shor(
        _ecdh, "ECDH", P.KEY_AGREE, ecc_security_bits(_order), key_bits=_order, parameter_set=_c,
        public_key_bytes=1 + 2 * _fb, private_key_bytes=(_order + 7) // 8, shared_secret_bytes=_fb,
        tls_groups=_tls, ike_groups=(_ike,) if _ike else (), ssh_names=_ssh_kex,
        aliases=(f"ECDHE-{_compact}", *_go_ecdh), standards=(_std, "NIST SP 800-56A Rev. 3"),
    )
T.shor(
    "X25519", "X25519", P.KEY_AGREE, 128, key_bits=255, parameter_set="Curve25519", public_key_bytes=32,
    private_key_bytes=32, shared_secret_bytes=32, oids=("1.3.101.110",), tls_groups=(0x001D,), ike_groups=(31,),
    ssh_names=("curve25519-sha256", "curve25519-sha256@libssh.org"),
    aliases=("Curve25519", "ecdh.X25519", "tls.X25519", "id-X25519", "X25519PrivateKey"),
    standards=("RFC 7748", "RFC 8410", "RFC 8031", "RFC 8731"),
)
T.shor(
    "X448", "X448", P.KEY_AGREE, 224, key_bits=448, parameter_set="Curve448", public_key_bytes=56,
    private_key_bytes=56, shared_secret_bytes=56, oids=("1.3.101.111",), tls_groups=(0x001E,), ike_groups=(32,),
    ssh_names=("curve448-sha512",), aliases=("Curve448", "id-X448", "X448PrivateKey"),
    standards=("RFC 7748", "RFC 8410", "RFC 8031"),
)
T.shor(
    "Ed25519", "EdDSA", P.SIGNATURE, 128, key_bits=255, parameter_set="edwards25519", public_key_bytes=32,
    private_key_bytes=32, signature_bytes=64, oids=("1.3.101.112",), tls_signature_schemes=(0x0807,),
    ssh_names=("ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com",
               "sk-ssh-ed25519-cert-v01@openssh.com"),
    aliases=("crypto/ed25519", "ed25519.GenerateKey", "tls.Ed25519", "id-Ed25519", "EdDSA"),
    standards=("RFC 8032", "RFC 8410", "FIPS 186-5"),
    notes="The generic name 'EdDSA' (JCA, JOSE) resolves here: Ed25519 is what it means in practice.",
)
T.shor(
    "Ed448", "EdDSA", P.SIGNATURE, 224, key_bits=448, parameter_set="edwards448", public_key_bytes=57,
    private_key_bytes=57, signature_bytes=114, oids=("1.3.101.113",), tls_signature_schemes=(0x0808,),
    ssh_names=("ssh-ed448",), aliases=("id-Ed448",), standards=("RFC 8032", "RFC 8410", "FIPS 186-5"),
)

# ---------------------------------------------------------------------------------------------
# Post-quantum KEMs and signatures
# ---------------------------------------------------------------------------------------------
# ML-KEM, FIPS 203 Table 3: (k, ek, dk, ct), shared secret 32 bytes; TLS: draft-ietf-tls-mlkem;
# IKEv2: draft-ietf-ipsecme-ikev2-mlkem.
for _p, _cat, _ek, _dk, _ct, _tls, _ike in (
    (512, 1, 800, 1632, 768, 0x0200, 35),
    (768, 3, 1184, 2400, 1088, 0x0201, 36),
    (1024, 5, 1568, 3168, 1568, 0x0202, 37),
):
    T.pq(
        f"ML-KEM-{_p}", "ML-KEM", P.KEM, _cat, parameter_set=f"ML-KEM-{_p}", public_key_bytes=_ek,
        private_key_bytes=_dk, ciphertext_bytes=_ct, shared_secret_bytes=32,
        oids=(f"{_NIST_KEM}{(512, 768, 1024).index(_p) + 1}",), tls_groups=(_tls,), ike_groups=(_ike,),
        aliases=(f"MLKEM{_p}", f"id-alg-ml-kem-{_p}", f"mlkem.GenerateKey{_p}", f"mlkem.DecapsulationKey{_p}",
                 *((f"MLKEM{_p}PrivateKey",) if _p != 512 else ()), *(("tls.MLKEM1024",) if _p == 1024 else ())),
        standards=("FIPS 203",),
        notes="private_key_bytes is the expanded decapsulation key; the seed form (d||z) is 64 bytes.",
    )
# Kyber (Round 3), still met in deployments of the draft hybrids: same sizes as ML-KEM.
for _p, _cat, _ek, _dk, _ct in ((512, 1, 800, 1632, 768), (768, 3, 1184, 2400, 1088), (1024, 5, 1568, 3168, 1568)):
    T.pq(
        f"Kyber{_p}", "Kyber", P.KEM, _cat, parameter_set=f"Kyber{_p}", public_key_bytes=_ek, private_key_bytes=_dk,
        ciphertext_bytes=_ct, shared_secret_bytes=32, aliases=(f"Kyber-{_p}", f"CRYSTALS-Kyber-{_p}"),
        standards=("CRYSTALS-Kyber Round 3 (2021)",),
        notes="Pre-standard; not interoperable with ML-KEM (FIPS 203). Migrate to ML-KEM.",
    )
# ML-DSA, FIPS 204 Table 2: (pk, sk, sig); TLS: draft-ietf-tls-mldsa.
for _p, _cat, _pk, _sk, _sig, _tls in (
    (44, 2, 1312, 2560, 2420, 0x0904),
    (65, 3, 1952, 4032, 3309, 0x0905),
    (87, 5, 2592, 4896, 4627, 0x0906),
):
    T.pq(
        f"ML-DSA-{_p}", "ML-DSA", P.SIGNATURE, _cat, parameter_set=f"ML-DSA-{_p}", public_key_bytes=_pk,
        private_key_bytes=_sk, signature_bytes=_sig, oids=(f"{_NIST_SIG}{(44, 65, 87).index(_p) + 17}",),
        tls_signature_schemes=(_tls,),
        aliases=(f"MLDSA{_p}", f"id-ml-dsa-{_p}", f"MLDSA{_p}PrivateKey"),
        standards=("FIPS 204", "RFC 9881"),
        notes="private_key_bytes is the expanded key; the seed form is 32 bytes.",
    )
# SLH-DSA, FIPS 205 Table 2: (n, pk = 2n, sk = 4n, sig); OIDs id-slh-dsa-* in CSOR order.
_SLH = (
    ("128s", 1, 16, 7856), ("128f", 1, 16, 17088), ("192s", 3, 24, 16224),
    ("192f", 3, 24, 35664), ("256s", 5, 32, 29792), ("256f", 5, 32, 49856),
)
for _hi, _hash in enumerate(("SHA2", "SHAKE")):
    for _i, (_set, _cat, _n, _sig) in enumerate(_SLH):
        T.pq(
            f"SLH-DSA-{_hash}-{_set}", "SLH-DSA", P.SIGNATURE, _cat, parameter_set=f"{_hash}-{_set}",
            public_key_bytes=2 * _n, private_key_bytes=4 * _n, signature_bytes=_sig,
            oids=(f"{_NIST_SIG}{20 + 6 * _hi + _i}",),
            aliases=(f"id-slh-dsa-{_hash.lower()}-{_set}",),
            standards=("FIPS 205", "RFC 9814"),
        )
# Round-3 predecessors still offered by liboqs under these names. Same sizes as the FIPS versions
# (Dilithium's secret key differs), but NOT interoperable with ML-DSA / SLH-DSA: separate entries.
for _lvl, _pk, _sk, _sig in ((2, 1312, 2528, 2420), (3, 1952, 4000, 3293), (5, 2592, 4864, 4595)):
    T.pq(
        f"Dilithium{_lvl}", "Dilithium", P.SIGNATURE, _lvl, parameter_set=f"Dilithium{_lvl}", public_key_bytes=_pk,
        private_key_bytes=_sk, signature_bytes=_sig, aliases=(f"CRYSTALS-Dilithium{_lvl}",),
        standards=("CRYSTALS-Dilithium Round 3 (2021)",),
        notes="Pre-standard; not interoperable with ML-DSA (FIPS 204). Migrate to ML-DSA.",
    )
for _hash in ("SHA2", "SHAKE"):
    for _set, _cat, _n, _sig in _SLH:
        T.pq(
            f"SPHINCS+-{_hash}-{_set}-simple", "SPHINCS+", P.SIGNATURE, _cat, parameter_set=f"{_hash}-{_set}",
            public_key_bytes=2 * _n, private_key_bytes=4 * _n, signature_bytes=_sig,
            standards=("SPHINCS+ Round 3.1 (2022)",),
            notes="Pre-standard; not interoperable with SLH-DSA (FIPS 205). Migrate to SLH-DSA.",
        )
# Pre-hash variants (FIPS 204 §5.4 HashML-DSA, FIPS 205 §10.2 HashSLH-DSA): same keys and sizes as
# the pure scheme, a different OID; components = (pure scheme, pre-hash).
for _i, _p in enumerate((44, 65, 87)):
    _base = T.get(f"ML-DSA-{_p}")
    T.pq(
        f"HashML-DSA-{_p}-SHA512", "ML-DSA", P.SIGNATURE, _base.nist_category, parameter_set=f"ML-DSA-{_p}",
        public_key_bytes=_base.public_key_bytes, private_key_bytes=_base.private_key_bytes,
        signature_bytes=_base.signature_bytes, components=(_base.name, "SHA-512"),
        oids=(f"{_NIST_SIG}{32 + _i}",), aliases=(f"id-hash-ml-dsa-{_p}-with-sha512",),
        standards=("FIPS 204", "RFC 9881"),
    )
_SLH_PREHASH = {"SHA2-128": "SHA-256", "SHA2-192": "SHA-512", "SHA2-256": "SHA-512",
                "SHAKE-128": "SHAKE128", "SHAKE-192": "SHAKE256", "SHAKE-256": "SHAKE256"}
for _hi, _hash in enumerate(("SHA2", "SHAKE")):
    for _i, (_set, _cat, _n, _sig) in enumerate(_SLH):
        _base = T.get(f"SLH-DSA-{_hash}-{_set}")
        _pre = _SLH_PREHASH[f"{_hash}-{_set[:3]}"]
        T.pq(
            f"HashSLH-DSA-{_hash}-{_set}-{_pre.replace('-', '')}", "SLH-DSA", P.SIGNATURE, _cat,
            parameter_set=_base.parameter_set, public_key_bytes=2 * _n, private_key_bytes=4 * _n,
            signature_bytes=_sig, components=(_base.name, _pre), oids=(f"{_NIST_SIG}{35 + 6 * _hi + _i}",),
            aliases=(f"id-hash-slh-dsa-{_hash.lower()}-{_set}-with-{_pre.replace('-', '').lower()}",),
            standards=("FIPS 205", "RFC 9814"),
        )
# Falcon (FN-DSA, FIPS 206 pending), Round-3 sizes; signature_bytes is the maximum of the compressed
# format; the padded variants have fixed-length signatures.
for _p, _cat, _pk, _sk, _sig, _padded in ((512, 1, 897, 1281, 752, 666), (1024, 5, 1793, 2305, 1462, 1280)):
    T.pq(
        f"Falcon-{_p}", "Falcon", P.SIGNATURE, _cat, parameter_set=f"Falcon-{_p}", public_key_bytes=_pk,
        private_key_bytes=_sk, signature_bytes=_sig, aliases=(f"FN-DSA-{_p}", f"falcon{_p}"),
        standards=("Falcon Round 3 (2020)", "FIPS 206 (draft)"),
        notes="Variable-length signatures; signature_bytes is the maximum of the compressed format.",
    )
    T.pq(
        f"Falcon-padded-{_p}", "Falcon", P.SIGNATURE, _cat, parameter_set=f"Falcon-{_p}", public_key_bytes=_pk,
        private_key_bytes=_sk, signature_bytes=_padded, standards=("Falcon Round 3 (2020)",),
        notes="Same keys as the compressed variant; signatures padded to a fixed length.",
    )
# FrodoKEM (Round 3 / ISO candidate): (pk, sk, ct, ss)
for _p, _cat, _pk, _sk, _ct, _ss in (
    (640, 1, 9616, 19888, 9720, 16), (976, 3, 15632, 31296, 15744, 24), (1344, 5, 21520, 43088, 21632, 32),
):
    for _v in ("AES", "SHAKE"):
        T.pq(
            f"FrodoKEM-{_p}-{_v}", "FrodoKEM", P.KEM, _cat, parameter_set=f"{_p}-{_v}", public_key_bytes=_pk,
            private_key_bytes=_sk, ciphertext_bytes=_ct, shared_secret_bytes=_ss,
            aliases=(f"frodo{_p}{_v.lower()}", f"FrodoKEM{_p}{_v}"), standards=("FrodoKEM Round 3 (2021)",),
        )
# HQC, as packaged by liboqs (Round-4 submission of 2023-04-30): (pk, sk, ct, ss)
for _p, _cat, _pk, _sk, _ct in ((128, 1, 2249, 2305, 4433), (192, 3, 4522, 4586, 8978), (256, 5, 7245, 7317, 14421)):
    T.pq(
        f"HQC-{_p}", "HQC", P.KEM, _cat, parameter_set=f"HQC-{_p}", public_key_bytes=_pk, private_key_bytes=_sk,
        ciphertext_bytes=_ct, shared_secret_bytes=64, aliases=(f"hqc{_p}",),
        standards=("HQC Round 4 (2023)",),
        notes="Selected by NIST in 2025; the final standard may change sizes.",
    )
# Classic McEliece Round 4: (pk, sk, ct); shared secret 32 bytes; "f" variants have equal sizes.
for _p, _cat, _pk, _sk, _ct in (
    ("348864", 1, 261120, 6492, 96), ("460896", 3, 524160, 13608, 156), ("6688128", 5, 1044992, 13932, 208),
    ("6960119", 5, 1047319, 13948, 194), ("8192128", 5, 1357824, 14120, 208),
):
    for _f in ("", "f"):
        T.pq(
            f"Classic-McEliece-{_p}{_f}", "Classic-McEliece", P.KEM, _cat, parameter_set=f"{_p}{_f}",
            public_key_bytes=_pk, private_key_bytes=_sk, ciphertext_bytes=_ct, shared_secret_bytes=32,
            aliases=(f"mceliece{_p}{_f}", f"Classic McEliece {_p}{_f}"), standards=("Classic McEliece Round 4 (2022)",),
        )
T.pq(
    "sntrup761", "NTRU-Prime", P.KEM, 2, parameter_set="sntrup761", public_key_bytes=1158, private_key_bytes=1763,
    ciphertext_bytes=1039, shared_secret_bytes=32, aliases=("Streamlined NTRU Prime 761",),
    standards=("NTRU Prime Round 3 (2020)",),
    notes="Not standardised by NIST; category 2 is the submitters' claim (as listed by liboqs).",
)

# ---------------------------------------------------------------------------------------------
# Hybrid KEMs / key exchanges. components in wire order; status hybrid; strength = max of parts.
# ---------------------------------------------------------------------------------------------
T.hybrid(
    "X-Wing", "X-Wing", ("ML-KEM-768", "X25519"), 3, parameter_set="X-Wing", public_key_bytes=1216,
    private_key_bytes=32, ciphertext_bytes=1120, shared_secret_bytes=32, oids=("1.3.6.1.4.1.62253.25722",),
    aliases=("XWing", "X-Wing-KEM", "xwing-kem"), standards=("draft-connolly-cfrg-xwing-kem",),
    notes="ss = SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel); private key is the 32-byte seed.",
)
# TLS and SSH hybrid groups: shares are the components' concatenated in wire order, sizes summed from
# their rows (TableBuilder.concatenation); the SSH groups hash the concatenated secrets.
_ECDH_FIRST = "Shares and secret: ECDH part first, then ML-KEM."
#: draft-ietf-tls-ecdhe-mlkem: (name, components in wire order, NIST category, TLS code point, aliases, notes)
_TLS_MLKEM_GROUPS: tuple[tuple[str, tuple[str, str], int, int, tuple[str, ...], str], ...] = (
    ("X25519MLKEM768", ("ML-KEM-768", "X25519"), 3, 0x11EC,
     ("tls.X25519MLKEM768", "X25519_MLKEM768", "x25519mlkem768-group"),
     "Client share = ML-KEM-768 ek || X25519 share; server share = ct || X25519 share; "
     "secret = ML-KEM ss || X25519 ss (ML-KEM first)."),
    ("SecP256r1MLKEM768", ("ECDH-P256", "ML-KEM-768"), 3, 0x11EB,
     ("tls.SecP256r1MLKEM768", "P256MLKEM768", "SECP256R1_MLKEM768"), _ECDH_FIRST),
    ("SecP384r1MLKEM1024", ("ECDH-P384", "ML-KEM-1024"), 5, 0x11ED,
     ("tls.SecP384r1MLKEM1024", "P384MLKEM1024", "SECP384R1_MLKEM1024"), _ECDH_FIRST),
)
for _name, _parts, _category, _group, _aliases, _notes in _TLS_MLKEM_GROUPS:
    T.concatenation(_name, "TLS-hybrid", _parts, _category, tls_groups=(_group,), aliases=_aliases,
                    standards=("draft-ietf-tls-ecdhe-mlkem",), notes=_notes)
T.concatenation(
    "X25519Kyber768Draft00", "TLS-hybrid", ("X25519", "Kyber768"), 3, tls_groups=(0x6399,),
    aliases=("tls.X25519Kyber768Draft00", "X25519Kyber768", "x25519_kyber768"),
    standards=("draft-tls-westerbaan-xyber768d00",),
    notes="Obsolete pre-standard group (Kyber Round 3); replaced by X25519MLKEM768. The Go name is uTLS's "
    "constant (unexported in crypto/tls).",
)
#: draft-ietf-sshm-mlkem-hybrid-kex: (name = SSH name, components, NIST category, K = hash output bytes, aliases, notes)
_SSH_MLKEM_GROUPS: tuple[tuple[str, tuple[str, str], int, int, tuple[str, ...], str], ...] = (
    ("mlkem768x25519-sha256", ("ML-KEM-768", "X25519"), 3, 32, ("MLKEM768X25519-SHA256",),
     "K = SHA-256(ML-KEM ss || X25519 ss); OpenSSH 10 default."),
    ("mlkem768nistp256-sha256", ("ML-KEM-768", "ECDH-P256"), 3, 32, (), ""),
    ("mlkem1024nistp384-sha384", ("ML-KEM-1024", "ECDH-P384"), 5, 48, (), ""),
)
for _name, _parts, _category, _secret, _aliases, _notes in _SSH_MLKEM_GROUPS:
    T.concatenation(_name, "SSH-hybrid", _parts, _category, shared_secret_bytes=_secret, ssh_names=(_name,),
                    aliases=_aliases, standards=("draft-ietf-sshm-mlkem-hybrid-kex",), notes=_notes)
T.concatenation(
    "sntrup761x25519-sha512", "SSH-hybrid", ("sntrup761", "X25519"), 2, shared_secret_bytes=64,
    ssh_names=("sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"),
    standards=("draft-josefsson-ntruprime-ssh",), notes="K = SHA-512(sntrup761 ss || X25519 ss); OpenSSH 9.0 default.",
)

# ---------------------------------------------------------------------------------------------
# Signature schemes = key algorithm + hash (X.509 signatureAlgorithm OIDs, TLS SignatureScheme,
# SSH host-key algorithms). Status and figures: the weakest part.
# ---------------------------------------------------------------------------------------------
# (name, key, hash, OIDs, TLS schemes, SSH names, aliases)
_SIG_SCHEMES = (
    ("RSASSA-PKCS1-v1_5-MD5", "RSA", "MD5", (_PKCS1 + "4",), (), (),
     ("md5WithRSAEncryption", "MD5withRSA", "RSA-MD5")),
    ("RSASSA-PKCS1-v1_5-SHA1", "RSA", "SHA-1", (_PKCS1 + "5",), (0x0201,), ("ssh-rsa", "ssh-rsa-cert-v01@openssh.com"),
     ("sha1WithRSAEncryption", "SHA1withRSA", "RSA-SHA1", "rsa_pkcs1_sha1", "tls.PKCS1WithSHA1")),
    ("RSASSA-PKCS1-v1_5-SHA224", "RSA", "SHA-224", (_PKCS1 + "14",), (0x0301,), (),
     ("sha224WithRSAEncryption", "SHA224withRSA", "RSA-SHA224")),
    ("RSASSA-PKCS1-v1_5-SHA256", "RSA", "SHA-256", (_PKCS1 + "11",), (0x0401,), ("rsa-sha2-256", "rsa-sha2-256-cert-v01@openssh.com"),
     ("sha256WithRSAEncryption", "SHA256withRSA", "RSA-SHA256", "rsa_pkcs1_sha256", "tls.PKCS1WithSHA256", "RS256")),
    ("RSASSA-PKCS1-v1_5-SHA384", "RSA", "SHA-384", (_PKCS1 + "12",), (0x0501,), (),
     ("sha384WithRSAEncryption", "SHA384withRSA", "RSA-SHA384", "rsa_pkcs1_sha384", "tls.PKCS1WithSHA384", "RS384")),
    ("RSASSA-PKCS1-v1_5-SHA512", "RSA", "SHA-512", (_PKCS1 + "13",), (0x0601,), ("rsa-sha2-512", "rsa-sha2-512-cert-v01@openssh.com"),
     ("sha512WithRSAEncryption", "SHA512withRSA", "RSA-SHA512", "rsa_pkcs1_sha512", "tls.PKCS1WithSHA512", "RS512")),
    *(
        (f"RSASSA-PKCS1-v1_5-SHA3-{_b}", "RSA", f"SHA3-{_b}", (f"{_NIST_SIG}{_arc}",), (), (),
         (f"id-rsassa-pkcs1-v1_5-with-sha3-{_b}", f"SHA3-{_b}withRSA", f"RSA-SHA3-{_b}"))
        for _b, _arc in ((224, 13), (256, 14), (384, 15), (512, 16))
    ),
    ("RSASSA-PSS", "RSA", "SHA-256", (_PKCS1 + "10",), (), (), ("id-RSASSA-PSS", "RSA-PSS", "RSAPSS")),
    ("RSASSA-PSS-SHA256", "RSA", "SHA-256", (), (0x0804, 0x0809), (),
     ("rsa_pss_rsae_sha256", "rsa_pss_pss_sha256", "SHA256withRSA/PSS", "tls.PSSWithSHA256", "PS256")),
    ("RSASSA-PSS-SHA384", "RSA", "SHA-384", (), (0x0805, 0x080A), (),
     ("rsa_pss_rsae_sha384", "rsa_pss_pss_sha384", "SHA384withRSA/PSS", "tls.PSSWithSHA384", "PS384")),
    ("RSASSA-PSS-SHA512", "RSA", "SHA-512", (), (0x0806, 0x080B), (),
     ("rsa_pss_rsae_sha512", "rsa_pss_pss_sha512", "SHA512withRSA/PSS", "tls.PSSWithSHA512", "PS512")),
    ("DSA-SHA1", "DSA", "SHA-1", ("1.2.840.10040.4.3",), (0x0202,), ("ssh-dss", "ssh-dss-cert-v01@openssh.com"),
     ("dsa-with-sha1", "SHA1withDSA", "dsa_sha1")),
    ("DSA-SHA224", "DSA", "SHA-224", (_NIST_SIG + "1",), (0x0302,), (), ("dsa-with-sha224", "SHA224withDSA")),
    ("DSA-SHA256", "DSA", "SHA-256", (_NIST_SIG + "2",), (0x0402,), (), ("dsa-with-sha256", "SHA256withDSA")),
    ("DSA-SHA384", "DSA", "SHA-384", (_NIST_SIG + "3",), (0x0502,), (), ("dsa-with-sha384", "SHA384withDSA")),
    ("DSA-SHA512", "DSA", "SHA-512", (_NIST_SIG + "4",), (0x0602,), (), ("dsa-with-sha512", "SHA512withDSA")),
    ("ECDSA-SHA1", "ECDSA", "SHA-1", ("1.2.840.10045.4.1",), (0x0203,), (),
     ("ecdsa-with-SHA1", "SHA1withECDSA", "ecdsa_sha1", "tls.ECDSAWithSHA1")),
    ("ECDSA-SHA224", "ECDSA", "SHA-224", ("1.2.840.10045.4.3.1",), (0x0303,), (),
     ("ecdsa-with-SHA224", "SHA224withECDSA")),
    ("ECDSA-SHA256", "ECDSA", "SHA-256", ("1.2.840.10045.4.3.2",), (0x0403,), (),
     ("ecdsa-with-SHA256", "SHA256withECDSA", "ecdsa_secp256r1_sha256", "tls.ECDSAWithP256AndSHA256", "ES256")),
    ("ECDSA-SHA384", "ECDSA", "SHA-384", ("1.2.840.10045.4.3.3",), (0x0503,), (),
     ("ecdsa-with-SHA384", "SHA384withECDSA", "ecdsa_secp384r1_sha384", "tls.ECDSAWithP384AndSHA384", "ES384")),
    ("ECDSA-SHA512", "ECDSA", "SHA-512", ("1.2.840.10045.4.3.4",), (0x0603,), (),
     ("ecdsa-with-SHA512", "SHA512withECDSA", "ecdsa_secp521r1_sha512", "tls.ECDSAWithP521AndSHA512", "ES512")),
    *(
        (f"ECDSA-SHA3-{_b}", "ECDSA", f"SHA3-{_b}", (f"{_NIST_SIG}{_arc}",), (), (),
         (f"id-ecdsa-with-sha3-{_b}", f"SHA3-{_b}withECDSA"))
        for _b, _arc in ((224, 9), (256, 10), (384, 11), (512, 12))
    ),
)
_SIG_NOTES = {
    "RSASSA-PSS": "RSASSA-PSS parameters (hash, MGF, salt) travel in the AlgorithmIdentifier; SHA-256 assumed.",
    "RSASSA-PKCS1-v1_5-SHA1": "SSH name 'ssh-rsa' is this signature algorithm on the wire (KEXINIT host-key "
    "algorithms); in key files 'ssh-rsa' only names an RSA key type: classify those with lookup_sized('RSA', bits).",
}
for _name, _key, _hash, _oids, _tls, _ssh, _aliases in _SIG_SCHEMES:
    T.composite(
        _name, _key, P.SIGNATURE, (_key, _hash), oids=_oids, tls_signature_schemes=_tls, ssh_names=_ssh,
        aliases=_aliases, standards=("RFC 8017",) if _key == "RSA" else ("FIPS 186-5", "RFC 5758"),
        notes=_SIG_NOTES.get(_name, "In TLS 1.3 the ECDSA scheme also fixes the curve." if _tls and _key == "ECDSA" else ""),
    )

# ---------------------------------------------------------------------------------------------
# TLS cipher suites (IANA names; OpenSSL names and Go constants as aliases).
# TLS 1.3: components (AEAD, HKDF): the key exchange is the negotiated group.
# TLS 1.2: components (key exchange, authentication, cipher, record MAC or, for AEADs, the PRF
# HMAC): both PRF/HKDF and record MACs use the hash as a keyed PRF, so HMAC/HKDF figures apply.
# ---------------------------------------------------------------------------------------------
_TLS13 = (
    (0x1301, "TLS_AES_128_GCM_SHA256", ("AES-128-GCM", "HKDF-SHA256"), True),
    (0x1302, "TLS_AES_256_GCM_SHA384", ("AES-256-GCM", "HKDF-SHA384"), True),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256", ("ChaCha20-Poly1305", "HKDF-SHA256"), True),
    (0x1304, "TLS_AES_128_CCM_SHA256", ("AES-128-CCM", "HKDF-SHA256"), False),
    (0x1305, "TLS_AES_128_CCM_8_SHA256", ("AES-128-CCM", "HKDF-SHA256"), False),
)
for _cp, _name, _parts, _go in _TLS13:
    T.composite(
        _name, "TLS-1.3", P.OTHER, _parts, tls_cipher_suites=(_cp,), aliases=(f"tls.{_name}",) if _go else (),
        standards=("RFC 8446",), notes="CCM with an 8-byte tag." if _name.endswith("CCM_8_SHA256") else "",
    )
# (code point, IANA name, OpenSSL name, kex, auth, cipher, mac, Go constant exists)
_TLS12 = (
    (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDH", "ECDSA", "AES-128-GCM", "HMAC-SHA256", True),
    (0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDH", "ECDSA", "AES-256-GCM", "HMAC-SHA384", True),
    (0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDH", "RSA", "AES-128-GCM", "HMAC-SHA256", True),
    (0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDH", "RSA", "AES-256-GCM", "HMAC-SHA384", True),
    (0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", "ECDH", "RSA", "ChaCha20-Poly1305", "HMAC-SHA256", True),
    (0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDH", "ECDSA", "ChaCha20-Poly1305", "HMAC-SHA256", True),
    (0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE-RSA-CHACHA20-POLY1305", "DH", "RSA", "ChaCha20-Poly1305", "HMAC-SHA256", False),
    (0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", "DH", "RSA", "AES-128-GCM", "HMAC-SHA256", False),
    (0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384", "DH", "RSA", "AES-256-GCM", "HMAC-SHA384", False),
    (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", "RSA", "RSA", "AES-128-GCM", "HMAC-SHA256", True),
    (0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", "RSA", "RSA", "AES-256-GCM", "HMAC-SHA384", True),
    (0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", "ECDH", "ECDSA", "AES-128-CBC", "HMAC-SHA256", True),
    (0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384", "ECDH", "ECDSA", "AES-256-CBC", "HMAC-SHA384", False),
    (0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", "ECDH", "RSA", "AES-128-CBC", "HMAC-SHA256", True),
    (0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", "ECDH", "RSA", "AES-256-CBC", "HMAC-SHA384", False),
    (0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", "ECDH", "ECDSA", "AES-128-CBC", "HMAC-SHA1", True),
    (0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", "ECDH", "ECDSA", "AES-256-CBC", "HMAC-SHA1", True),
    (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", "ECDH", "RSA", "AES-128-CBC", "HMAC-SHA1", True),
    (0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", "ECDH", "RSA", "AES-256-CBC", "HMAC-SHA1", True),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA", "DH", "RSA", "AES-128-CBC", "HMAC-SHA1", False),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA", "DH", "RSA", "AES-256-CBC", "HMAC-SHA1", False),
    (0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256", "DH", "RSA", "AES-128-CBC", "HMAC-SHA256", False),
    (0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256", "DH", "RSA", "AES-256-CBC", "HMAC-SHA256", False),
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", "RSA", "RSA", "AES-128-CBC", "HMAC-SHA1", True),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", "RSA", "RSA", "AES-256-CBC", "HMAC-SHA1", True),
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", "RSA", "RSA", "AES-128-CBC", "HMAC-SHA256", True),
    (0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", "RSA", "RSA", "AES-256-CBC", "HMAC-SHA256", False),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", "RSA", "RSA", "3DES-CBC", "HMAC-SHA1", True),
    (0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA", "ECDH", "RSA", "3DES-CBC", "HMAC-SHA1", True),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "EDH-RSA-DES-CBC3-SHA", "DH", "RSA", "3DES-CBC", "HMAC-SHA1", False),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "DES-CBC-SHA", "RSA", "RSA", "DES-CBC", "HMAC-SHA1", False),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA", "RSA", "RSA", "RC4", "HMAC-SHA1", True),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RC4-MD5", "RSA", "RSA", "RC4", "HMAC-MD5", False),
    (0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA", "ECDH", "RSA", "RC4", "HMAC-SHA1", True),
    (0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA", "ECDH", "ECDSA", "RC4", "HMAC-SHA1", True),
)
for _cp, _name, _ossl, _kex, _auth, _cipher, _mac, _go in _TLS12:
    T.composite(
        _name, "TLS-1.2", P.OTHER, (_kex, _auth, _cipher, _mac), tls_cipher_suites=(_cp,),
        aliases=(_ossl, f"tls.{_name}") if _go else (_ossl,), standards=("RFC 5246", "IANA TLS Cipher Suites"),
    )

# ---------------------------------------------------------------------------------------------
# Algorithms met in code and configs that qshift does not implement (the inventory names them):
# national and legacy ciphers and their modes, password hashes and KDF constructions, MACs,
# Shor-broken schemes outside RSA/DH/EC, family-level PQ names (a class or factory that does not
# state its parameter set), fresh DH groups and P-192.
# ---------------------------------------------------------------------------------------------
T.broken(
    "MD4", "MD4", P.HASH, 2, hash_quantum_bits(128), output_bytes=16, oids=("1.2.840.113549.2.4",),
    aliases=("md4.New",), standards=("RFC 1320", "RFC 6150"), notes="Collisions by hand (Wang et al. 2005).",
)
T.symmetric(
    "RIPEMD-160", "RIPEMD", P.HASH, 80, hash_quantum_bits(160), output_bytes=20, oids=("1.3.36.3.2.1",),
    aliases=("RIPEMD160", "RMD160", "ripemd160.New"), standards=("ISO/IEC 10118-3",),
)
T.symmetric(
    "SM3", "SM3", P.HASH, hash_classical_bits(256), hash_quantum_bits(256), output_bytes=32,
    oids=("1.2.156.10197.1.401",), standards=("GB/T 32905-2016", "ISO/IEC 10118-3"),
)
T.symmetric(
    "Whirlpool", "Whirlpool", P.HASH, hash_classical_bits(512), hash_quantum_bits(512), output_bytes=64,
    standards=("ISO/IEC 10118-3",),
)
T.symmetric(
    "Tiger", "Tiger", P.HASH, hash_classical_bits(192), hash_quantum_bits(192), output_bytes=24,
    aliases=("Tiger-192",), notes="1990s design; not standardised by NIST.",
)
T.symmetric(
    "BLAKE2b-256", "BLAKE2", P.HASH, hash_classical_bits(256), hash_quantum_bits(256), output_bytes=32,
    aliases=("blake2b256", "blake2b.New256", "blake2b.Sum256"), standards=("RFC 7693",),
)
T.symmetric(
    "Poly1305", "Poly1305", P.MAC, 128, 64, output_bytes=16, aliases=("crypto_onetimeauth",),
    standards=("RFC 8439",), notes="One-time authenticator: a key must never be reused.",
)
T.symmetric(
    "SipHash", "SipHash", P.MAC, 128, 64, output_bytes=8, aliases=("SipHash-2-4", "crypto_shorthash"),
    notes="Keyed hash for hash tables, not a general-purpose MAC.",
)
T.symmetric(
    "AES-GMAC", "GMAC", P.MAC, 128, 64, output_bytes=16, aliases=("GMAC", "AESGMAC", "AES-GMAC"),
    standards=("NIST SP 800-38D",), notes="Key size unknown: figures assume AES-128.",
)
for _name, _aliases, _std in (
    ("scrypt", ("Scrypt", "SCRYPT", "scrypt.Key", "id-scrypt"), ("RFC 7914",)),
    ("Argon2", ("Argon2id", "Argon2i", "Argon2d", "argon2.IDKey", "argon2.Key", "crypto_pwhash"), ("RFC 9106",)),
    ("bcrypt", ("BCrypt", "bcrypt.GenerateFromPassword"), ()),
    ("KBKDF", ("KBKDFHMAC", "KBKDFCMAC", "SP800-108"), ("NIST SP 800-108r1",)),
    ("ConcatKDF", ("ConcatKDFHash", "ConcatKDFHMAC", "SP800-56C"), ("NIST SP 800-56C r2",)),
    ("X963KDF", ("X9.63-KDF", "ANSI-X9.63-KDF"), ("ANSI X9.63",)),
    ("PKCS12-KDF", ("PKCS12PBE",), ("RFC 7292",)),
):
    T.symmetric(_name, _name, P.KDF, 128, 64, aliases=_aliases, standards=_std,
                notes="Strength is the input secret's (or password's); figures assume a 128-bit secret.")
T.symmetric(
    "Fernet", "Fernet", P.AE, 128, 64, components=("AES-128-CBC", "HMAC-SHA256"),
    standards=("Fernet specification (AES-128-CBC + HMAC-SHA256)",),
)
T.key_search(
    "Salsa20", "Salsa20", P.STREAM_CIPHER, 256, aliases=("salsa20.XORKeyStream", "crypto_stream_salsa20"),
    standards=("eSTREAM",),
)
T.key_search(
    "XSalsa20-Poly1305", "Salsa20", P.AE, 256, aliases=("crypto_secretbox", "secretbox", "secretbox.Seal"),
    standards=("NaCl crypto_secretbox",),
)
for _mode, _prim in (("EAX", P.AE), ("SIV", P.AE)):
    T.symmetric(f"AES-{_mode}", "AES", _prim, 128, 64, mode=_mode, components=("AES",),
                aliases=(f"AES/{_mode}/NoPadding", f"AES{_mode}"),
                notes="Key size unknown: figures assume AES-128 (worst case).")
    for _k in (128, 192, 256):
        T.key_search(f"AES-{_k}-{_mode}", "AES", _prim, _k, mode=_mode, components=(f"AES-{_k}",),
                     aliases=(f"AES{_k}-{_mode}", f"AES_{_k}_{_mode}"))
_TAKEN = {x.lower() for r in T.rows for x in (r.name, *r.aliases, *r.ssh_names)}


def _free(*names: str) -> tuple[str, ...]:
    """The spellings no earlier row claims (as a name, alias or SSH name)."""
    return tuple(n for n in names if n.lower() not in _TAKEN)


#: 128-bit-block ciphers other than AES: weakened by Grover at their key size.
_OTHER_128 = (("Twofish", 256, ()), ("Serpent", 256, ()), ("Camellia", 128, ("CAMELLIA",)),
              ("SM4", 128, ("SMS4",)), ("ARIA", 128, ()), ("SEED", 128, ()))
_CIPHER_MODES = ("ECB", "CBC", "CFB", "OFB", "CTR", "GCM")
for _cname, _kb, _al in _OTHER_128:
    T.key_search(_cname, _cname, P.BLOCK_CIPHER, _kb, aliases=_free(*_al),
                 notes="" if _cname != "Camellia" else "Key size unknown: figures assume Camellia-128.")
    for _mode in _CIPHER_MODES:
        if f"{_cname}-{_mode}".lower() in _TAKEN:
            continue
        T.key_search(f"{_cname}-{_mode}", _cname, P.AE if _mode == "GCM" else P.BLOCK_CIPHER, _kb, mode=_mode,
                     components=(_cname,), aliases=_free(f"{_cname}/{_mode}", f"{_cname.lower()}-{_mode.lower()}"))
#: 64-bit-block and short-key ciphers: broken classically (Sweet32 birthday bounds, key search) like Blowfish.
for _cname, _kb, _q, _al in (("CAST5", 128, grover_bits(128), ("CAST-128", "CAST")), ("IDEA", 128, grover_bits(128), ()),
                         ("RC2", 128, grover_bits(128), ("ARC2",)), ("DES", 56, grover_bits(56), ()),
                         ("3DES", 168, grover_bits(112), ()), ("Blowfish", 128, grover_bits(128), ())):
    if _cname not in ("DES", "3DES", "Blowfish"):
        T.broken(_cname, _cname, P.BLOCK_CIPHER, _kb, _q, key_bits=_kb, aliases=_free(*_al),
                 notes="64-bit block: birthday-bound attacks (Sweet32) after about 2^32 blocks under one key.")
    for _mode in ("ECB", "CBC", "CFB", "OFB", "CTR"):
        _mname = f"{_cname}-{_mode}"
        if _mname.lower() in _TAKEN:  # DES-CBC, 3DES-CBC; blowfish-cbc is Blowfish's SSH name
            continue
        T.broken(_mname, _cname, P.BLOCK_CIPHER, min(_kb, 112) if _cname == "3DES" else _kb, _q, key_bits=_kb,
                 mode=_mode,
                 components=(_cname,), aliases=_free(f"{_cname}/{_mode}", f"{_cname.lower()}-{_mode.lower()}"))
# composite signature of qshift's own key files (ML-DSA-65 + Ed25519)
T.hybrid("MLDSA65-Ed25519", "composite-signature", ("ML-DSA-65", "Ed25519"), 3, primitive=P.SIGNATURE,
         aliases=("id-MLDSA65-Ed25519-SHA512", "MLDSA65-Ed25519-SHA512"), public_key_bytes=1952 + 32,
         signature_bytes=3309 + 64,
         standards=("draft-ietf-lamps-pq-composite-sigs",))
# RSA with both its size and its padding stated (``RSA-2048-OAEP``)
for _k in RSA_SIZES:
    if _k >= 1024:
        T.shor(f"RSA-{_k}-OAEP", "RSA", P.PKE, ifc_security_bits(_k), key_bits=_k, components=("RSAES-OAEP",),
               standards=("RFC 8017",))
        T.shor(f"RSA-{_k}-PSS", "RSA", P.SIGNATURE, ifc_security_bits(_k), key_bits=_k, components=("RSASSA-PSS",),
               standards=("RFC 8017",))
# Shor-broken schemes beyond RSA / DH / EC on the NIST curves
T.shor("SM2", "SM2", P.SIGNATURE, 128, key_bits=256, oids=("1.2.156.10197.1.301",),
       aliases=("SM2Sign", "SM3withSM2", "sm2sig_sm3"), standards=("GB/T 32918",))
T.shor("ElGamal", "ElGamal", P.PKE, None, aliases=("Elgamal", "ELGAMAL"), standards=("ElGamal 1985",))
T.shor("ECIES", "ECIES", P.PKE, None, aliases=("ECIESwithAES-CBC", "ECIESWithSHA256"),
       standards=("SEC 1 v2", "ISO/IEC 18033-2"))
T.shor("DLIES", "DLIES", P.PKE, None, aliases=("IES", "DHIES"), standards=("ISO/IEC 18033-2",))
T.shor("ISO9796-2", "RSA", P.SIGNATURE, None, aliases=("ISO9796-2Signer", "ISO9796d2", "SHA1withRSA/ISO9796-2"),
       standards=("ISO/IEC 9796-2",))
for _k in (1024, 1536, 2048, 3072, 4096, 8192):
    T.shor(f"DH-{_k}", "DH", P.KEY_AGREE, ifc_security_bits(_k), key_bits=_k,
           notes="Freshly generated finite-field group of this size (not a named MODP/ffdhe group).")
T.shor("ECDSA-P192", "ECDSA", P.SIGNATURE, ecc_security_bits(192), key_bits=192, parameter_set="P-192",
       aliases=("P-192", "P192", "secp192r1", "prime192v1", "NIST192p", "NIST P-192", "SECP192R1"),
       oids=("1.2.840.10045.3.1.1",), standards=("FIPS 186-4",))
T.shor("ECDH-P192", "ECDH", P.KEY_AGREE, ecc_security_bits(192), key_bits=192, parameter_set="P-192",
       aliases=("ECDHE-P192",), standards=("SP 800-56A",))
# family-level post-quantum names (the parameter set is chosen elsewhere)
for _name, _fam, _prim, _al in (
    ("ML-KEM", "ML-KEM", P.KEM, ("MLKEM", "CRYSTALS-Kyber-ML-KEM")),
    ("ML-DSA", "ML-DSA", P.SIGNATURE, ("MLDSA", "Dilithium", "CRYSTALS-Dilithium")),
    ("Kyber", "Kyber", P.KEM, ("CRYSTALS-Kyber",)),
    ("SPHINCS+", "SLH-DSA", P.SIGNATURE, ("SPHINCSPlus", "SPHINCS", "SLH-DSA")),
    ("Falcon", "Falcon", P.SIGNATURE, ("FN-DSA",)),
    ("BIKE", "BIKE", P.KEM, ()),
    ("HQC", "HQC", P.KEM, ()),
    ("NTRU", "NTRU", P.KEM, ("NTRUEncrypt",)),
    ("FrodoKEM", "FrodoKEM", P.KEM, ("Frodo",)),
    ("Classic-McEliece", "Classic-McEliece", P.KEM, ("CMCE", "McEliece")),
):
    if _name not in {r.name for r in T.rows}:
        # a family of its own: listing a family (``pqc algorithms --family ml-kem``) shows its parameter sets
        T.pq(_name, f"{_fam}-unstated", _prim, 2 if _fam == "ML-DSA" else 1, aliases=tuple(a for a in _al if a.lower() not in
                                                     {x.lower() for r in T.rows for x in (r.name, *r.aliases)}),
             notes="Parameter set not stated where it was found: figures of the family's lowest category.")

#: The catalogue table, in declaration order.
ALGORITHMS: tuple[Algorithm, ...] = tuple(T.rows)

#: (family, bits) → canonical name, for :func:`pqc.catalogue.lookup_sized`. DH sizes prefer the
#: RFC 7919 ffdhe group where one exists; EC sizes are the curve's order bits (P-521 → 521).
SIZED: dict[tuple[str, int], str] = {
    **{("RSA", n): f"RSA-{n}" for n in RSA_SIZES},
    **{("DSA", n): f"DSA-{n}" for n in (1024, 2048, 3072)},
    **{("DH", n): f"MODP-{n}" for _, n, _, _ in _MODP},
    **{("DH", n): f"ffdhe{n}" for n in (2048, 3072, 4096, 6144, 8192)},
    **{("AES", n): f"AES-{n}" for n in (128, 192, 256)},
    **{("ECDSA", b): f"ECDSA-P{b}" for b in (224, 256, 384, 521)},
    **{("ECDH", b): f"ECDH-P{b}" for b in (224, 256, 384, 521)},
    **{("ML-KEM", n): f"ML-KEM-{n}" for n in (512, 768, 1024)},
    ("Camellia", 128): "Camellia-128",
    ("Camellia", 256): "Camellia-256",
}

del T
