"""ETSI GS QKD 014 V1.1.1 conformance: each endpoint, GET and POST forms, field by field; each error case
returns its status with an Error body and leaves the store unchanged."""

from __future__ import annotations

import base64
import uuid

import aiohttp
import pytest

STATUS_FIELDS = {"source_KME_ID": str, "target_KME_ID": str, "master_SAE_ID": str, "slave_SAE_ID": str,
                 "key_size": int, "stored_key_count": int, "max_key_count": int, "max_key_per_request": int,
                 "max_key_size": int, "min_key_size": int, "max_SAE_ID_count": int, "status_extension": dict}


def session(pki, identity):
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=pki.client_context(identity)))


async def call(sess, method, url, **kw):
    async with sess.request(method, url, **kw) as resp:
        return resp.status, await resp.json(content_type=None)


def assert_key_container(body, number, size_bits):
    assert set(body) == {"keys"}
    assert len(body["keys"]) == number
    for item in body["keys"]:
        assert set(item) == {"key_ID", "key"}
        assert str(uuid.UUID(item["key_ID"])) == item["key_ID"]
        assert len(base64.b64decode(item["key"], validate=True)) * 8 == size_bits


async def test_status_has_every_field_of_the_spec_with_its_type(kme, pki):
    async with session(pki, "SAE_A") as s:
        status, body = await call(s, "GET", f"{kme.url}/api/v1/keys/SAE_B/status")
    assert status == 200
    assert set(body) == set(STATUS_FIELDS)
    for name, typ in STATUS_FIELDS.items():
        assert isinstance(body[name], typ), name
    assert body["source_KME_ID"] == body["target_KME_ID"] == "KME_A"
    assert (body["master_SAE_ID"], body["slave_SAE_ID"]) == ("SAE_A", "SAE_B")
    assert body["key_size"] == 256 and body["stored_key_count"] == 256
    assert body["min_key_size"] <= body["key_size"] <= body["max_key_size"]


async def test_enc_keys_get_form_uses_query_number_and_size(kme, pki):
    async with session(pki, "SAE_A") as s:
        status, body = await call(s, "GET", f"{kme.url}/api/v1/keys/SAE_B/enc_keys?number=3&size=512")
        assert status == 200
        assert_key_container(body, 3, 512)
        status, body = await call(s, "GET", f"{kme.url}/api/v1/keys/SAE_B/enc_keys")
        assert status == 200
        assert_key_container(body, 1, 256)  # defaults: number 1, size = key_size


async def test_enc_keys_post_form_and_dec_keys_get_and_post_forms(kme, pki):
    async with session(pki, "SAE_A") as a, session(pki, "SAE_B") as b:
        status, body = await call(a, "POST", f"{kme.url}/api/v1/keys/SAE_B/enc_keys",
                                  json={"number": 2, "size": 128, "extension_optional": [{"x": 1}]})
        assert status == 200
        assert_key_container(body, 2, 128)
        k0, k1 = body["keys"]
        status, got = await call(b, "GET", f"{kme.url}/api/v1/keys/SAE_A/dec_keys?key_ID={k0['key_ID']}")
        assert status == 200 and got == {"keys": [k0]}
        status, got = await call(b, "POST", f"{kme.url}/api/v1/keys/SAE_A/dec_keys",
                                 json={"key_IDs": [{"key_ID": k1["key_ID"]}]})
        assert status == 200 and got == {"keys": [k1]}


ENC_ERRORS = [
    ("POST", {"number": 2, "size": 100}, 400, "multiple of 8"),
    ("POST", {"number": 1, "size": 32}, 400, "outside"),
    ("POST", {"number": 1, "size": 16384}, 400, "outside"),
    ("POST", {"number": 0}, 400, "at least 1"),
    ("POST", {"number": 129}, 400, "max_key_per_request"),
    ("POST", {"number": "2"}, 400, "integer"),
    ("POST", {"number": 1, "additional_slave_SAE_IDs": ["SAE_C"]}, 400, "additional_slave_SAE_IDs"),
    ("POST", {"number": 1, "extension_mandatory": [{"abc_route": "x"}]}, 400, "extension_mandatory"),
    ("POST", {"colour": "red"}, 400, "unknown field"),
    ("POST", b"{not json", 400, "malformed JSON"),
    ("POST", [1, 2], 400, "JSON object"),
    ("GET", "number=two", 400, "integer"),
    ("GET", "size=12", 400, "multiple of 8"),
    ("POST", {"number": 128, "size": 8192}, 503, "not enough key"),
]


@pytest.mark.parametrize("method,payload,status,needle", ENC_ERRORS)
async def test_enc_keys_error_cases_answer_their_status_and_consume_nothing(kme, pki, method, payload, status,
                                                                             needle):
    before = kme.service.store.fingerprint()
    url = f"{kme.url}/api/v1/keys/SAE_B/enc_keys"
    async with session(pki, "SAE_A") as s:
        if method == "GET":
            got_status, body = await call(s, "GET", f"{url}?{payload}")
        elif isinstance(payload, bytes):
            got_status, body = await call(s, "POST", url, data=payload,
                                          headers={"Content-Type": "application/json"})
        else:
            got_status, body = await call(s, "POST", url, json=payload)
    assert got_status == status
    assert needle in body["message"]
    assert set(body) <= {"message", "details"}
    assert kme.service.store.fingerprint() == before


async def test_enc_keys_for_unknown_slave_is_400_and_consumes_nothing(kme, pki):
    before = kme.service.store.fingerprint()
    async with session(pki, "SAE_A") as s:
        status, body = await call(s, "POST", f"{kme.url}/api/v1/keys/SAE_NOBODY/enc_keys", json={"number": 1})
    assert status == 400 and "unknown SAE" in body["message"]
    assert kme.service.store.fingerprint() == before


async def test_dec_keys_error_cases_answer_their_status_and_consume_nothing(kme, pki):
    async with session(pki, "SAE_A") as a, session(pki, "SAE_B") as b, session(pki, "SAE_C") as c:
        _, body = await call(a, "POST", f"{kme.url}/api/v1/keys/SAE_B/enc_keys", json={"number": 2})
        k0, k1 = (k["key_ID"] for k in body["keys"])
        cases = [
            (b, "SAE_A", {"key_IDs": [{"key_ID": str(uuid.uuid4())}]}, 400, "not known"),
            (b, "SAE_A", {"key_IDs": [{"key_ID": k0}, {"key_ID": str(uuid.uuid4())}]}, 400, "key_IDs[1]"),
            (b, "SAE_A", {"key_IDs": [{"key_ID": "not-a-uuid"}]}, 400, "not a UUID"),
            (b, "SAE_A", {"key_IDs": []}, 400, "non-empty"),
            (b, "SAE_A", {"key_IDs": [{"key_ID": k0}, {"key_ID": k0}]}, 400, "twice"),
            (b, "SAE_A", {"keys": []}, 400, "unknown field"),
            (b, "SAE_NOBODY", {"key_IDs": [{"key_ID": k0}]}, 400, "unknown SAE"),
            (c, "SAE_A", {"key_IDs": [{"key_ID": k0}]}, 401, "not issued to the pair"),   # foreign slave
            (b, "SAE_C", {"key_IDs": [{"key_ID": k0}]}, 401, "not issued to the pair"),   # wrong master
            (a, "SAE_A", {"key_IDs": [{"key_ID": k0}]}, 401, "not issued to the pair"),   # the master itself
        ]
        for sess, master, payload, status, needle in cases:
            before = kme.service.store.fingerprint()
            got, err = await call(sess, "POST", f"{kme.url}/api/v1/keys/{master}/dec_keys", json=payload)
            assert (got, needle in err["message"]) == (status, True), (payload, err)
            assert kme.service.store.fingerprint() == before
        for query, needle in ((f"key_ID={k0}&key_ID={k1}", "exactly one"), ("", "exactly one"),
                              ("keyid=1", "not defined")):
            before = kme.service.store.fingerprint()
            got, err = await call(b, "GET", f"{kme.url}/api/v1/keys/SAE_A/dec_keys?{query}")
            assert got == 400 and needle in err["message"]
            assert kme.service.store.fingerprint() == before
        # both keys are still redeemable exactly once by the right slave
        got, body = await call(b, "POST", f"{kme.url}/api/v1/keys/SAE_A/dec_keys",
                               json={"key_IDs": [{"key_ID": k0}, {"key_ID": k1}]})
        assert got == 200 and len(body["keys"]) == 2


async def test_unknown_route_answers_an_error_body(kme, pki):
    async with session(pki, "SAE_A") as s:
        status, body = await call(s, "GET", f"{kme.url}/api/v1/keys/SAE_B/nope")
    assert status == 404 and "message" in body


async def test_status_error_cases_answer_their_status_and_change_nothing(kme, pki):
    cases = [("SAE_A", "SAE_NOBODY", 400, "unknown SAE"),     # unknown slave
             ("admin", "SAE_B", 401, "not an SAE attached"),  # a certificate of our CA, but no SAE of this KME
             ("KME_T", "SAE_B", 401, "not an SAE attached")]  # a KME certificate is no SAE
    for caller, slave, status, needle in cases:
        before = kme.service.store.fingerprint()
        async with session(pki, caller) as s:
            got, body = await call(s, "GET", f"{kme.url}/api/v1/keys/{slave}/status")
        assert (got, needle in body["message"], set(body) <= {"message", "details"}) == (status, True, True)
        assert kme.service.store.fingerprint() == before


async def test_wrong_method_answers_an_error_body_and_consumes_nothing(kme, pki):
    before = kme.service.store.fingerprint()
    async with session(pki, "SAE_A") as s:
        status, body = await call(s, "DELETE", f"{kme.url}/api/v1/keys/SAE_B/enc_keys")
    assert status == 405 and "message" in body
    assert kme.service.store.fingerprint() == before
