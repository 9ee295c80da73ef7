"""The BouncyCastle lightweight API (``org.bouncycastle.crypto`` and ``org.bouncycastle.pqc.crypto``;
BouncyCastle.NET spells the same classes in Pascal case) as tables, shared by the Java and C# rules.

BouncyCastle builds a primitive by wrapping objects: ``new PaddedBufferedBlockCipher(new
CBCBlockCipher(AESEngine.newInstance()))`` is AES-CBC, ``new HMac(new SHA256Digest())`` is HMAC-SHA256,
``new PSSSigner(new RSAEngine(), new SHA256Digest(), 32)`` is RSASSA-PSS-SHA256.
:func:`describe` reads such a construction expression (``new X(…)`` or ``X.newInstance(…)``) from the
outside in and returns the canonical spelling of the whole; the scanner reports the outermost
construction once and consumes the inner ones. A variable initialised with a construction stands for
it in later wrappers (``BlockCipher e = new AESEngine(); new GCMBlockCipher(e)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from inventory.rules.treesitter import File

#: Ciphers, asymmetric engines and wrap engines → catalogue spelling.
ENGINES = {
    "AESEngine": "AES", "AESFastEngine": "AES", "AESLightEngine": "AES", "RijndaelEngine": "AES",
    "DESEngine": "DES", "DESedeEngine": "3DES", "BlowfishEngine": "Blowfish", "TwofishEngine": "Twofish",
    "SerpentEngine": "Serpent", "TnepresEngine": "Serpent", "CAST5Engine": "CAST5", "Cast5Engine": "CAST5",
    "CamelliaEngine": "Camellia", "CamelliaLightEngine": "Camellia", "SM4Engine": "SM4", "ARIAEngine": "ARIA",
    "SEEDEngine": "SEED", "IDEAEngine": "IDEA", "RC2Engine": "RC2", "RC4Engine": "RC4", "ChaChaEngine": "ChaCha20",
    "ChaCha7539Engine": "ChaCha20", "Salsa20Engine": "Salsa20", "XSalsa20Engine": "Salsa20",
    "RSAEngine": "RSA", "RSABlindedEngine": "RSA", "RsaEngine": "RSA", "RsaBlindedEngine": "RSA",
    "ElGamalEngine": "ElGamal", "SM2Engine": "SM2", "IESEngine": "DLIES", "EthereumIESEngine": "ECIES",
    "AESWrapEngine": "AES-KW", "AESWrapPadEngine": "AES-KWP", "RFC3394WrapEngine": "AES-KW",
    "RFC5649WrapEngine": "AES-KWP", "DESedeWrapEngine": "3DES", "CamelliaWrapEngine": "Camellia",
    "AesEngine": "AES", "DesEngine": "DES", "DesEdeEngine": "3DES", "ChaCha20Poly1305": "ChaCha20-Poly1305",
}
#: Block-cipher modes (first argument: the cipher) → mode word.
MODES = {"CBCBlockCipher": "CBC", "GCMBlockCipher": "GCM", "CCMBlockCipher": "CCM", "SICBlockCipher": "CTR",
         "CTRBlockCipher": "CTR", "KCTRBlockCipher": "CTR", "OFBBlockCipher": "OFB", "CFBBlockCipher": "CFB",
         "EAXBlockCipher": "EAX", "OCBBlockCipher": "OCB", "GCMSIVBlockCipher": "GCM-SIV", "EcbBlockCipher": "ECB",
         "CbcBlockCipher": "CBC", "GcmBlockCipher": "GCM", "CcmBlockCipher": "CCM", "SicBlockCipher": "CTR",
         "OfbBlockCipher": "OFB", "CfbBlockCipher": "CFB", "EaxBlockCipher": "EAX", "OcbBlockCipher": "OCB"}
#: Wrappers that add buffering or padding: the whole is what they wrap.
PASS_THROUGH = {"PaddedBufferedBlockCipher", "BufferedBlockCipher", "DefaultBufferedBlockCipher",
                "CTSBlockCipher", "BufferedAsymmetricBlockCipher", "StreamBlockCipher", "NISTCTSBlockCipher"}
#: Asymmetric encodings: (name when wrapping RSA, keep the wrapped name otherwise).
ENCODINGS = {"OAEPEncoding": "RSAES-OAEP", "OaepEncoding": "RSAES-OAEP", "PKCS1Encoding": "RSA",
             "Pkcs1Encoding": "RSA", "ISO9796d1Encoding": "RSA"}
#: Digest class stems → catalogue spelling (``SHA3Digest(384)`` takes its size from the argument).
DIGESTS = {"MD2": "MD2", "MD4": "MD4", "MD5": "MD5", "SHA1": "SHA-1", "SHA224": "SHA-224", "SHA256": "SHA-256",
           "SHA384": "SHA-384", "SHA512": "SHA-512", "SHA512t": "SHA-512/{}", "SHA3": "SHA3-{}", "Sha3": "SHA3-{}",
           "SHAKE": "SHAKE{}", "Shake": "SHAKE{}", "Keccak": "SHA3-{}", "SM3": "SM3", "RIPEMD160": "RIPEMD-160",
           "Blake2b": "BLAKE2b-{}", "Blake2s": "BLAKE2s-256", "Whirlpool": "Whirlpool", "Sha1": "SHA-1",
           "Sha224": "SHA-224", "Sha256": "SHA-256", "Sha384": "SHA-384", "Sha512": "SHA-512", "Md5": "MD5",
           "Md4": "MD4", "Sm3": "SM3", "RipeMD160": "RIPEMD-160", "Tiger": "Tiger", "GOST3411": "GOST R 34.11-94"}
_DIGEST_DEFAULT_BITS = {"SHA3": 256, "Sha3": 256, "SHAKE": 128, "Shake": 128, "Keccak": 256, "Blake2b": 512,
                        "SHA512t": 256}
#: Classes that are one primitive whatever their arguments.
FIXED = {
    # signers
    "ECDSASigner": "ECDSA", "ECNRSigner": "ECDSA", "DSASigner": "DSA", "Ed25519Signer": "Ed25519",
    "Ed25519ctxSigner": "Ed25519", "Ed25519phSigner": "Ed25519", "Ed448Signer": "Ed448", "Ed448phSigner": "Ed448",
    "SM2Signer": "SM2", "ISO9796d2Signer": "ISO9796-2", "ISO9796d2PSSSigner": "ISO9796-2", "X931Signer": "RSA",
    "MLDSASigner": "ML-DSA", "HashMLDSASigner": "ML-DSA", "DilithiumSigner": "ML-DSA", "SLHDSASigner": "SPHINCS+",
    "HashSLHDSASigner": "SPHINCS+", "SPHINCSPlusSigner": "SPHINCS+", "FalconSigner": "Falcon",
    "EcdsaSigner": "ECDSA", "DsaSigner": "DSA",
    # key pair and parameter generators
    "RSAKeyPairGenerator": "RSA", "RsaKeyPairGenerator": "RSA", "ECKeyPairGenerator": "ECDSA",
    "ECKeyPairGeneratorSpi": "ECDSA", "DSAKeyPairGenerator": "DSA", "DSAParametersGenerator": "DSA",
    "DsaKeyPairGenerator": "DSA", "DHKeyPairGenerator": "DH", "DHBasicKeyPairGenerator": "DH",
    "DHParametersGenerator": "DH", "DHKeyGeneratorHelper": "DH", "ElGamalKeyPairGenerator": "ElGamal",
    "ElGamalParametersGenerator": "ElGamal", "Ed25519KeyPairGenerator": "Ed25519", "Ed448KeyPairGenerator": "Ed448",
    "X25519KeyPairGenerator": "X25519", "X448KeyPairGenerator": "X448", "MLKEMKeyPairGenerator": "ML-KEM",
    "MLDSAKeyPairGenerator": "ML-DSA", "KyberKeyPairGenerator": "Kyber", "DilithiumKeyPairGenerator": "ML-DSA",
    "SLHDSAKeyPairGenerator": "SPHINCS+", "SPHINCSPlusKeyPairGenerator": "SPHINCS+",
    "FalconKeyPairGenerator": "Falcon", "BIKEKeyPairGenerator": "BIKE", "HQCKeyPairGenerator": "HQC",
    "NTRUKeyPairGenerator": "NTRU", "FrodoKeyPairGenerator": "FrodoKEM", "CMCEKeyPairGenerator": "Classic-McEliece",
    "EcKeyPairGenerator": "ECDSA",
    # KEM encapsulation / decapsulation
    "MLKEMGenerator": "ML-KEM", "MLKEMExtractor": "ML-KEM", "KyberKEMGenerator": "Kyber",
    "KyberKEMExtractor": "Kyber", "BIKEKEMGenerator": "BIKE", "BIKEKEMExtractor": "BIKE", "HQCKEMGenerator": "HQC",
    "HQCKEMExtractor": "HQC", "NTRUKEMGenerator": "NTRU", "NTRUKEMExtractor": "NTRU",
    "FrodoKEMGenerator": "FrodoKEM", "FrodoKEMExtractor": "FrodoKEM", "CMCEKEMGenerator": "Classic-McEliece",
    "CMCEKEMExtractor": "Classic-McEliece", "RSAKEMGenerator": "RSA", "ECIESKEMGenerator": "ECIES",
    # agreements
    "ECDHBasicAgreement": "ECDH", "ECDHCBasicAgreement": "ECDH", "ECDHCUnifiedAgreement": "ECDH",
    "ECMQVBasicAgreement": "ECDH", "ECDHCStagedAgreement": "ECDH", "DHBasicAgreement": "DH", "DHAgreement": "DH",
    "DHUnifiedAgreement": "DH", "MQVBasicAgreement": "DH", "X25519Agreement": "X25519", "X448Agreement": "X448",
    "XDHBasicAgreement": "X25519", "SM2KeyExchange": "SM2", "ECDHBasicAgreementSpi": "ECDH",
    "ECDHBasicAgreementNet": "ECDH",
    # MACs without a digest or cipher argument
    "Poly1305": "Poly1305", "SipHash": "SipHash", "SipHash128": "SipHash", "KMAC": "KMAC{}",
    # KDF and password-hash generators
    "PKCS5S2ParametersGenerator": "PBKDF2", "Pkcs5S2ParametersGenerator": "PBKDF2",
    "PKCS12ParametersGenerator": "PKCS12-KDF", "Argon2BytesGenerator": "Argon2",
    "KDFCounterBytesGenerator": "KBKDF", "KDFFeedbackBytesGenerator": "KBKDF",
    "KDFDoublePipelineIterationBytesGenerator": "KBKDF", "ConcatenationKDFGenerator": "ConcatKDF",
    "KDF2BytesGenerator": "X963KDF", "ECDHKEKGenerator": "X963KDF", "OpenSSLPBEParametersGenerator": "MD5",
}
#: Static calls (``Class.method``) that are one primitive.
STATIC = {"SCrypt.generate": "scrypt", "BCrypt.generate": "bcrypt", "OpenBSDBCrypt.generate": "bcrypt",
          "OpenBSDBCrypt.checkPassword": "bcrypt", "Argon2.generate": "Argon2"}
#: ``*Parameters.<field>`` constants naming a PQ parameter set.
PARAM_FIELDS = re.compile(r"^(?:MLKEM|MLDSA|Kyber|Dilithium|SLHDSA|SPHINCSPlus|Falcon|BIKE|HQC|NTRU|Frodo|CMCE)"
                          r"Parameters\.(\w+)$")
_PARAM_FIELD_NAMES = {"ml_kem_512": "ML-KEM-512", "ml_kem_768": "ML-KEM-768", "ml_kem_1024": "ML-KEM-1024",
                      "ml_dsa_44": "ML-DSA-44", "ml_dsa_65": "ML-DSA-65", "ml_dsa_87": "ML-DSA-87",
                      "kyber512": "Kyber512", "kyber768": "Kyber768", "kyber1024": "Kyber1024",
                      "dilithium2": "ML-DSA-44", "dilithium3": "ML-DSA-65", "dilithium5": "ML-DSA-87",
                      "falcon_512": "Falcon-512", "falcon_1024": "Falcon-1024", "hqc128": "HQC-128",
                      "hqc192": "HQC-192", "hqc256": "HQC-256"}


def param_field(text: str) -> str | None:
    """``MLKEMParameters.ml_kem_768`` → ``ML-KEM-768`` (``None`` if not a known parameter-set constant)."""
    m = PARAM_FIELDS.match(text)
    if m is None:
        return None
    f = m.group(1).lower()
    if f in _PARAM_FIELD_NAMES:
        return _PARAM_FIELD_NAMES[f]
    slh = re.match(r"(?:slh_dsa_|sha2_|shake_)*(sha2|shake)_?(\d+[sf])", f)
    if slh:
        return f"SLH-DSA-{slh.group(1).upper()}-{slh.group(2)}"
    return None


def _hash_word(digest: str) -> str:
    """``SHA-256`` → ``SHA256`` (the spelling inside HMAC-/RSASSA-/ECDSA- names); ``SHA3-256`` stays."""
    return digest.replace("SHA-", "SHA")


#: Classes read with their arguments by :meth:`Describer.describe_class` (beyond the tables above).
COMPOSITES = frozenset({"HMac", "CMac", "CMacWithIV", "GMac", "PSSSigner", "RSADigestSigner", "DSADigestSigner",
                        "GenericSigner", "HKDFBytesGenerator", "PssSigner", "RsaDigestSigner", "DsaDigestSigner",
                        "HkdfBytesGenerator"})
#: ``*Parameters`` classes whose fields :func:`param_field` reads.
PARAM_CLASSES = tuple(f"{p}Parameters." for p in ("MLKEM", "MLDSA", "Kyber", "Dilithium", "SLHDSA", "SPHINCSPlus",
                                                   "Falcon", "BIKE", "HQC", "NTRU", "Frodo", "CMCE"))


def class_names() -> frozenset[str]:
    """Every class the tables know, digests spelt out (``SHA256Digest``): the constructions :func:`describe`
    reads. Every BouncyCastle finding names one of them verbatim."""
    return frozenset({*ENGINES, *MODES, *PASS_THROUGH, *ENCODINGS, *FIXED, *COMPOSITES,
                      *(f"{stem}Digest" for stem in DIGESTS)})


def trigger_words() -> frozenset[str]:
    """Words of which every finding of these tables needs one in the file: class names, static-call heads and
    parameter-set classes."""
    return frozenset({*class_names(), *(s.split(".")[0] for s in STATIC), *PARAM_CLASSES})


def digest_of(cls: str, args: list[Any], literal: Callable[[Any], object]) -> str | None:
    """The catalogue spelling of a ``*Digest`` class with its size argument, or ``None``."""
    if not cls.endswith("Digest"):
        return None
    stem = cls[: -len("Digest")]
    spelling = DIGESTS.get(stem)
    if spelling is None:
        return None
    if "{}" in spelling:
        bits = literal(args[0]) if args else None
        spelling = spelling.format(bits if isinstance(bits, int) else _DIGEST_DEFAULT_BITS.get(stem, 256))
    return spelling


class Describer:
    """Reads the BouncyCastle construction expressions of one file (see module docstring); ``inner`` collects the
    construction nodes read while describing (the caller consumes them)."""

    def __init__(self, f: File) -> None:
        self.f = f
        self.inner: list[Any] = []

    def class_and_args(self, node: Any) -> tuple[str, list[Any]] | None:
        return construction(self.f, node)

    def literal(self, node: Any) -> object:
        return self.f.literal(node)

    def var(self, node: Any) -> str | None:
        """What the object a variable holds is (``BlockCipher e = new AESEngine(); new GCMBlockCipher(e)``)."""
        return self.f.objects.get(self.f.text(node)) if node.type == "identifier" else None

    def describe(self, node: Any) -> str | None:
        got = self.class_and_args(node)
        if got is None:
            return self.var(node)
        cls, args = got
        return self.describe_class(cls, args)

    def _arg(self, args: list[Any], i: int) -> str | None:
        if i >= len(args):
            return None
        if self.class_and_args(args[i]) is not None:
            self.inner.append(args[i])
        return self.describe(args[i])

    def describe_class(self, cls: str, args: list[Any]) -> str | None:
        if cls in ENGINES:
            return ENGINES[cls]
        if cls in MODES:
            inner = self._arg(args, 0)
            base = (inner or "AES").split("-")[0] if inner not in ("3DES",) else "3DES"
            return f"{base}-{MODES[cls]}" if inner is not None else MODES[cls]
        if cls in PASS_THROUGH:
            return self._arg(args, 0)
        if cls in ENCODINGS:
            inner = self._arg(args, 0)
            if inner in (None, "RSA"):
                return ENCODINGS[cls]
            return inner
        d = digest_of(cls, args, self.literal)
        if d is not None:
            return d
        if cls == "HMac":
            inner = self._arg(args, 0)
            return f"HMAC-{_hash_word(inner)}" if inner else "HMAC"
        if cls in ("CMac", "CMacWithIV"):
            inner = self._arg(args, 0)
            return f"{(inner or 'AES').split('-')[0]}-CMAC"
        if cls == "GMac":
            inner = self._arg(args, 0)
            return f"{(inner or 'AES').split('-')[0]}-GMAC"
        if cls in ("RSADigestSigner", "RsaDigestSigner"):
            inner = self._arg(args, 0)
            return f"RSASSA-PKCS1-v1_5-{_hash_word(inner)}" if inner else "RSA"
        if cls in ("PSSSigner", "PssSigner"):
            self._arg(args, 0)
            inner = self._arg(args, 1)
            return f"RSASSA-PSS-{_hash_word(inner)}" if inner else "RSASSA-PSS"
        if cls in ("DSADigestSigner", "DsaDigestSigner"):
            signer = self._arg(args, 0) or "DSA"
            inner = self._arg(args, 1)
            return f"{signer}-{_hash_word(inner)}" if inner else signer
        if cls == "GenericSigner":
            signer = self._arg(args, 0) or "RSA"
            self._arg(args, 1)
            return signer
        if cls in ("HKDFBytesGenerator", "HkdfBytesGenerator"):
            inner = self._arg(args, 0)
            return f"HKDF-{_hash_word(inner)}" if inner else "HKDF"
        if cls in FIXED:
            name = FIXED[cls]
            if "{}" in name:
                bits = self.literal(args[0]) if args else None
                name = name.format(bits if isinstance(bits, int) else 128)
            for i in range(len(args)):  # digests or engines handed in are part of this primitive
                if self.class_and_args(args[i]) is not None:
                    self.inner.append(args[i])
            return name
        return None


#: ``X.newInstance(…)``: BouncyCastle's factory spelling of ``new X(…)``.
NEW_INSTANCE = "newInstance"


def construction(f: File, node: Any) -> tuple[str, list[Any]] | None:
    """(class, argument nodes) of ``new X(…)`` or ``X.newInstance(…)`` with X a class of the tables."""
    if node.type == "argument" and node.named_children:  # C# wraps each argument
        node = node.named_children[0]
    if node.type == "object_creation_expression":
        t = node.child_by_field_name("type")
        if t is None:
            return None
        cls = f.text(t).split("<", 1)[0].rsplit(".", 1)[-1]
    elif node.type == "method_invocation":
        name = node.child_by_field_name("name")
        obj = node.child_by_field_name("object")
        if name is None or obj is None or f.text(name) != NEW_INSTANCE:
            return None
        cls = f.text(obj).rsplit(".", 1)[-1]
    else:
        return None
    if cls not in _CLASSES:
        return None
    al = node.child_by_field_name("arguments")
    return cls, [c for c in al.named_children if c.type != "comment"] if al is not None else []


def report(f: File, node: Any) -> bool:
    """Report a BouncyCastle construction as one primitive, its inner constructions consumed; a variable it
    initialises stands for it later (``f.objects``) and can be refined by a setter (``f.vars``)."""
    got = construction(f, node)
    if got is None:
        return False
    d = Describer(f)
    name = d.describe_class(*got)
    if name is None:
        return False
    for inner in d.inner:
        f.consumed.add(inner.id)
    h = f.hit(name, node, usage="key-exchange" if "Agreement" in got[0] else None)
    decl = node.parent
    if decl is not None and decl.type == "variable_declarator":
        target = decl.child_by_field_name("name")
        if target is not None:
            f.objects[f.text(target)] = name
            f.vars[f.text(target)] = h
    return True


_CLASSES = class_names()
