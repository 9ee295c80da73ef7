"""CycloneDX 1.6 CBOM (JSON) built with ``cyclonedx-python-lib`` and validated against the official
schema before it is returned: a document that fails validation is a bug and is never written.

Mapping (CycloneDX 1.6 §cryptoProperties): algorithm assets → ``assetType: algorithm`` with primitive,
parameterSetIdentifier, curve, mode, classicalSecurityLevel, nistQuantumSecurityLevel and the
catalogue OID; certificates → ``certificate`` with subject, issuer, validity, signatureAlgorithmRef and
subjectPublicKeyRef; keys → ``related-crypto-material`` with algorithmRef and size; protocols →
``protocol`` with version, cipherSuites (each with its algorithm refs) and cryptoRefs. Every occurrence is
an ``evidence.occurrences`` entry. ``dependencies``: certificate → key, signature algorithm; key →
algorithm; protocol → cipher suites / groups / certificates.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import (
    AnalysisTechnique,
    ComponentEvidence,
    Identity,
    IdentityField,
    Method,
    Occurrence,
)
from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CertificateProperties,
    CryptoAssetType,
    CryptoMode,
    CryptoPadding,
    CryptoPrimitive,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesCipherSuite,
    ProtocolPropertiesType,
    RelatedCryptoMaterialProperties,
    RelatedCryptoMaterialType,
)
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from inventory.errors import ReportError
from inventory.model import AssetType, Finding
from inventory.normalise import Asset, private_key_occurrences

_TECHNIQUE = {"python": AnalysisTechnique.AST_FINGERPRINT, "manifest": AnalysisTechnique.MANIFEST_ANALYSIS,
              "tls": AnalysisTechnique.DYNAMIC_ANALYSIS, "ssh": AnalysisTechnique.DYNAMIC_ANALYSIS,
              "pcap": AnalysisTechnique.DYNAMIC_ANALYSIS}
_MODES = {m.value: m for m in CryptoMode}


def _ref(key: str) -> str:
    return key.replace(" ", "_")


def _evidence(asset: Asset, occurrences: list[Finding] | None = None) -> ComponentEvidence:
    occ = []
    for f in (asset.occurrences if occurrences is None else occurrences)[:500]:
        loc = f.location
        occ.append(Occurrence(location=loc.uri if loc.frame is None else f"{loc.uri}#frame={loc.frame}",
                              line=loc.line, offset=loc.column,
                              additional_context=(f.context or f.raw)[:500] or None))
    technique = {_TECHNIQUE.get(f.source, AnalysisTechnique.SOURCE_CODE_ANALYSIS) for f in
                 (asset.occurrences if occurrences is None else occurrences)}
    methods = [Method(technique=t, confidence=Decimal(str(round(asset.confidence, 2)))) for t in
               sorted(technique, key=lambda t: t.value)]
    ident = Identity(field=IdentityField.NAME, confidence=Decimal(str(round(asset.confidence, 2))),
                     concluded_value=asset.name, methods=methods or None)
    return ComponentEvidence(identity=[ident], occurrences=occ or None)


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def build_bom(assets: list[Asset], assessments: dict[str, Any]) -> Bom:
    """The CBOM as a ``cyclonedx`` :class:`Bom` (not yet validated)."""
    bom = Bom()
    components: dict[str, Component] = {}
    pair_private: dict[str, Component] = {}  #: key-pair asset key → its private-key component
    for a in assets:
        risk = assessments.get(a.key)
        props = [Property(name="qshift:asset-key", value=a.key)]
        if risk is not None:
            props += [Property(name="qshift:quantum-status", value=risk.status),
                      Property(name="qshift:priority", value=risk.priority),
                      Property(name="qshift:recommendation", value=risk.recommendation)]
            if risk.deadline:
                props.append(Property(name="qshift:deadline", value=str(risk.deadline)))
        cp: CryptoProperties | None
        alg = a.algorithm
        if a.asset_type is AssetType.ALGORITHM:
            ap = None
            oid = None
            if alg is not None:
                prim = CryptoPrimitive(alg.primitive.value) if alg.primitive.value in {
                    p.value for p in CryptoPrimitive} else CryptoPrimitive.OTHER
                seen_modes = {f.mode.lower() for f in a.occurrences if f.mode}
                mode_name = alg.mode or (seen_modes.pop() if len(seen_modes) == 1 and alg.primitive.value in (
                    "block-cipher", "ae") else None)  # JCA writes "RSA/ECB/…": no mode for RSA
                mode = _MODES.get(mode_name.lower()) if mode_name else None
                nist = alg.nist_category if alg.nist_category is not None else 0
                ap = AlgorithmProperties(primitive=prim, parameter_set_identifier=alg.parameter_set or (
                    str(alg.key_bits) if alg.key_bits else None), curve=alg.parameter_set if alg.family in (
                    "ECDSA", "ECDH") else None, mode=mode, classical_security_level=alg.classical_security_bits,
                    nist_quantum_security_level=max(0, min(nist, 6)), padding=_padding(a))
                oid = alg.oids[0] if alg.oids else None
            cp = CryptoProperties(asset_type=CryptoAssetType.ALGORITHM, algorithm_properties=ap, oid=oid)
            ctype = ComponentType.CRYPTOGRAPHIC_ASSET
        elif a.asset_type is AssetType.CERTIFICATE:
            d = a.details
            cp = CryptoProperties(asset_type=CryptoAssetType.CERTIFICATE, certificate_properties=None)
            ctype = ComponentType.CRYPTOGRAPHIC_ASSET
        elif a.asset_type is AssetType.MATERIAL:
            d = a.details
            kind = {"private-key": RelatedCryptoMaterialType.PRIVATE_KEY,
                    "public-key": RelatedCryptoMaterialType.PUBLIC_KEY}.get(d.get("kind", ""),
                                                                            RelatedCryptoMaterialType.KEY)
            private = private_key_occurrences(a)
            if private and len(private) < len(a.occurrences):
                # a key pair seen as its private key and as public copies (certificates, .pub files): the public
                # key is this component, the private key its own, with the same id (the pair's identifier)
                kind = RelatedCryptoMaterialType.PUBLIC_KEY
                pair_private[a.key] = _private_component(a, private, props)
                bom.components.add(pair_private[a.key])
            bits = d.get("key_bits")
            public_format = next((f.details.get("format") for f in a.occurrences if f not in private), None)
            cp = CryptoProperties(asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL,
                                  related_crypto_material_properties=RelatedCryptoMaterialProperties(
                                      type=kind, id=str(d.get("id", a.key)), size=bits if isinstance(bits, int)
                                      else None, format=public_format if a.key in pair_private else d.get("format")))
            ctype = ComponentType.CRYPTOGRAPHIC_ASSET
        elif a.asset_type is AssetType.PROTOCOL:
            cp = None  # filled after all components exist (needs refs)
            ctype = ComponentType.CRYPTOGRAPHIC_ASSET
        else:  # library
            cp = None
            ctype = ComponentType.LIBRARY
            props.append(Property(name="qshift:pq-support", value=str(a.details.get("pq_support"))))
        version = str(a.details.get("version")) if a.asset_type is AssetType.LIBRARY and a.details.get(
            "version") else None
        shown = [f for f in a.occurrences if f.details.get("kind") != "private-key"] if a.key in pair_private else None
        comp = Component(name=a.name, type=ctype, bom_ref=_ref(a.key), crypto_properties=cp,
                         evidence=_evidence(a, shown),
                         properties=props, version=version,
                         group=a.details.get("ecosystem") if a.asset_type is AssetType.LIBRARY else None)
        components[a.key] = comp
        bom.components.add(comp)
    # second pass: references between components
    by_key = {a.key: a for a in assets}
    for a in assets:
        comp = components[a.key]
        refs = [components[f"algorithm:{r}"].bom_ref for r in a.related if f"algorithm:{r}" in components]
        other = [components[k].bom_ref for r in a.related for k in (f"certificate:{r}", f"related-crypto-material:{r}")
                 if k in components]
        if a.asset_type is AssetType.CERTIFICATE:  # the private key of the certificate's public key, if found
            other += [pair_private[k].bom_ref for r in a.related for k in (f"related-crypto-material:{r}",)
                      if k in pair_private]
        elif a.key in pair_private:  # the private key holds its public key (and uses the same algorithm)
            half = pair_private[a.key]
            if half.crypto_properties is not None and half.crypto_properties.related_crypto_material_properties:
                half.crypto_properties.related_crypto_material_properties.algorithm_ref = refs[0] if refs else None
            bom.register_dependency(half, [comp, *(c for c in bom.components if c.bom_ref in refs)])
        if a.asset_type is AssetType.CERTIFICATE:
            d = a.details
            sig = next((components[f"algorithm:{r}"] for r in a.related if f"algorithm:{r}" in components), None)
            key = next((components[k] for r in a.related for k in (f"related-crypto-material:{r}",)
                        if k in components), None)
            comp.crypto_properties = CryptoProperties(
                asset_type=CryptoAssetType.CERTIFICATE,
                certificate_properties=CertificateProperties(
                    subject_name=d.get("subject"), issuer_name=d.get("issuer"),
                    not_valid_before=_parse_time(d.get("not_valid_before")),
                    not_valid_after=_parse_time(d.get("not_valid_after")),
                    signature_algorithm_ref=sig.bom_ref if sig else None,
                    subject_public_key_ref=key.bom_ref if key else None,
                    certificate_format="X.509", certificate_extension=".crt"))
        elif a.asset_type is AssetType.MATERIAL and comp.crypto_properties is not None:
            rp = comp.crypto_properties.related_crypto_material_properties
            if rp is not None and refs:
                rp.algorithm_ref = refs[0]
        elif a.asset_type is AssetType.PROTOCOL:
            d = a.details
            suites = []
            for r in a.related:
                c = components.get(f"algorithm:{r}")
                if c is not None and r.startswith("TLS_"):
                    suite_alg = by_key[f"algorithm:{r}"].algorithm
                    parts = suite_alg.components if suite_alg is not None else ()
                    alg_refs = [components[f"algorithm:{p}"].bom_ref for p in parts if f"algorithm:{p}" in components]
                    suites.append(ProtocolPropertiesCipherSuite(name=r, algorithms=alg_refs or [c.bom_ref]))
            ptype = {"tls": ProtocolPropertiesType.TLS, "ssh": ProtocolPropertiesType.SSH,
                     "ikev2": ProtocolPropertiesType.IKE}.get(d.get("protocol", ""), ProtocolPropertiesType.OTHER)
            versions = d.get("versions") or d.get("client_versions") or []
            version = d.get("negotiated_version") or (versions[-1] if versions else None)
            pinned = re.fullmatch(r"tls(?:v)?1(?:[._](\d))?", str(d.get("protocol", "")).lower())
            if pinned:  # a version a config or code enables (``tlsv1.2``)
                ptype, version = ProtocolPropertiesType.TLS, f"1.{pinned.group(1) or 0}"
            comp.crypto_properties = CryptoProperties(
                asset_type=CryptoAssetType.PROTOCOL,
                protocol_properties=ProtocolProperties(type=ptype, version=str(version).replace("TLSv", "")
                                                       if version else None, cipher_suites=suites or None,
                                                       crypto_refs=refs + other or None))
        deps = refs + other
        if deps:
            bom.register_dependency(comp, [c for c in bom.components if c.bom_ref in deps])
    return bom


def _private_component(asset: Asset, private: list[Finding], props: list[Property]) -> Component:
    """The private-key component of a key pair whose public key is ``asset``'s component."""
    d = asset.details
    bits = d.get("key_bits")
    key = asset.key.replace("related-crypto-material:key:", "related-crypto-material:private-key:", 1)
    cp = CryptoProperties(asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL,
                          related_crypto_material_properties=RelatedCryptoMaterialProperties(
                              type=RelatedCryptoMaterialType.PRIVATE_KEY, id=str(d.get("id", asset.key)),
                              size=bits if isinstance(bits, int) else None, format=private[0].details.get("format")))
    return Component(name=asset.name, type=ComponentType.CRYPTOGRAPHIC_ASSET, bom_ref=_ref(key), crypto_properties=cp,
                     evidence=_evidence(asset, private), properties=[Property(name="qshift:asset-key", value=key),
                                                                     *props[1:]])


def _padding(asset: Asset) -> CryptoPadding | None:
    """The padding the occurrences name (JCA ``…/PKCS5Padding``, OAEP/PKCS#1 entries), if they agree."""
    def kind(name: str) -> CryptoPadding:
        for prefix, pad in (("pkcs5", CryptoPadding.PKCS5), ("pkcs7", CryptoPadding.PKCS7),
                            ("pkcs1", CryptoPadding.PKCS1V15), ("oaep", CryptoPadding.OAEP),
                            ("nopadding", CryptoPadding.RAW)):
            if name.lower().startswith(prefix):
                return pad
        return CryptoPadding.OTHER

    pads = {kind(f.padding) for f in asset.occurrences if f.padding}
    if asset.name.startswith("RSAES-OAEP"):
        pads.add(CryptoPadding.OAEP)
    return pads.pop() if len(pads) == 1 else None


def render(assets: list[Asset], assessments: dict[str, Any]) -> str:
    """CBOM JSON text, validated against the CycloneDX 1.6 JSON schema; raises :class:`ReportError`."""
    bom = build_bom(assets, assessments)
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    validate(text)
    return text


def validate(text: str) -> None:
    """Raise :class:`ReportError` unless ``text`` is a valid CycloneDX 1.6 JSON document."""
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise ReportError(f"CBOM fails the CycloneDX 1.6 schema: {error}")
    doc = json.loads(text)
    if doc.get("specVersion") != "1.6":
        raise ReportError(f"CBOM specVersion is {doc.get('specVersion')!r}, expected '1.6'")
