"""The OpenAPI description (qkd/kms/openapi.json) against the real server: same routes, every response of
the server valid against its documented schema, and a property-based fuzz (hypothesis) of the ETSI
endpoints: any request gets a documented status with a valid body, and an error consumes nothing."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import uuid
from importlib import resources
from urllib.parse import urlencode

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qkd.kms.server import create_kme_app, start_kme
from qkd.kms.testing import single_node_config

SPEC = json.loads(resources.files("qkd.kms").joinpath("openapi.json").read_text())


def response_validator(path: str, method: str, status: int) -> jsonschema.Draft202012Validator:
    responses = SPEC["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path}: status {status} not documented"
    schema = dict(responses[str(status)]["content"]["application/json"]["schema"])
    schema["components"] = SPEC["components"]
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def request_validator(path: str, method: str) -> jsonschema.Draft202012Validator:
    schema = dict(SPEC["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"])
    schema["components"] = SPEC["components"]
    return jsonschema.Draft202012Validator(schema)


def test_openapi_paths_and_methods_equal_the_server_routes(tmp_path, pki):
    app = create_kme_app(single_node_config(tmp_path, pki))
    served = {(r.resource.canonical, r.method.lower()) for r in app.router.routes() if r.method != "HEAD"}
    documented = {(p, m) for p, ops in SPEC["paths"].items() for m in ops}
    assert served == documented


class ThreadedKme:
    """A real KME on a loopback port, run by an event loop in a thread (for synchronous hypothesis tests)."""

    def __init__(self, config) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.kme = asyncio.run_coroutine_threadsafe(start_kme(config), self.loop).result(30)

    def fingerprint(self):
        return asyncio.run_coroutine_threadsafe(self._fp(), self.loop).result(10)

    async def _fp(self):
        return self.kme.service.store.fingerprint()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.kme.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def threaded(tmp_path_factory, pki):
    cfg = single_node_config(tmp_path_factory.mktemp("fuzz"), pki, saes=["SAE_A", "SAE_B"], prefill_bits=1 << 18)
    t = ThreadedKme(cfg)
    yield t
    t.stop()


class Caller:
    def __init__(self, threaded, pki, identity):
        self.conn = http.client.HTTPSConnection("127.0.0.1", threaded.kme.port,
                                                context=pki.client_context(identity), timeout=10)

    def __call__(self, method, path, body=None, raw: bytes | None = None):
        headers = {"Content-Type": "application/json"}
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")


@pytest.fixture(scope="module")
def callers(threaded, pki):
    return {ident: Caller(threaded, pki, ident) for ident in ("SAE_A", "SAE_B", "SAE_C")}


def test_every_documented_response_of_a_normal_exchange_validates(threaded, callers):
    a, b = callers["SAE_A"], callers["SAE_B"]
    tpl_status = "/api/v1/keys/{slave_SAE_ID}/status"
    tpl_enc = "/api/v1/keys/{slave_SAE_ID}/enc_keys"
    tpl_dec = "/api/v1/keys/{master_SAE_ID}/dec_keys"
    status, body = a("GET", "/api/v1/keys/SAE_B/status")
    response_validator(tpl_status, "get", status).validate(body)
    req = {"number": 2, "size": 256}
    request_validator(tpl_enc, "post").validate(req)
    status, keys = a("POST", "/api/v1/keys/SAE_B/enc_keys", req)
    response_validator(tpl_enc, "post", status).validate(keys)
    status, body = a("GET", "/api/v1/keys/SAE_B/enc_keys?number=1&size=64")
    response_validator(tpl_enc, "get", status).validate(body)
    ids = {"key_IDs": [{"key_ID": keys["keys"][0]["key_ID"]}]}
    request_validator(tpl_dec, "post").validate(ids)
    status, body = b("POST", "/api/v1/keys/SAE_A/dec_keys", ids)
    response_validator(tpl_dec, "post", status).validate(body)
    status, body = b("GET", f"/api/v1/keys/SAE_A/dec_keys?key_ID={keys['keys'][1]['key_ID']}")
    response_validator(tpl_dec, "get", status).validate(body)
    for status, body, method in [(*a("POST", "/api/v1/keys/SAE_B/enc_keys", {"number": 0}), "post"),
                                 (*a("POST", "/api/v1/keys/SAE_B/enc_keys", {"number": 128, "size": 8192}), "post"),
                                 (*callers["SAE_C"]("GET", "/api/v1/keys/SAE_B/enc_keys"), "get")]:
        response_validator(tpl_enc, method, status).validate(body)
    assert status == 401  # SAE_C is not attached to this KME


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                      max_size=3),
                           max_leaves=6)
enc_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={"number": st.integers(-3, 200) | json_values,
                                        "size": st.sampled_from([0, 7, 8, 64, 100, 256, 8192, 8200]) | json_values,
                                        "additional_slave_SAE_IDs": st.lists(st.text(max_size=5), max_size=2),
                                        "extension_mandatory": st.lists(st.dictionaries(st.text(max_size=4),
                                                                                        json_values, max_size=1),
                                                                        max_size=1),
                                        "extension_optional": json_values}),
    json_values)
dec_bodies = st.one_of(
    st.fixed_dictionaries({"key_IDs": st.lists(st.fixed_dictionaries(
        {"key_ID": st.uuids().map(str) | st.text(max_size=10)}), max_size=3)}),
    json_values)

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def check_answer(threaded, path_tpl, method, before, status, body):
    assert status in (200, 400, 401, 503), status
    response_validator(path_tpl, method, status).validate(body)
    if status != 200:
        assert threaded.fingerprint() == before


@FUZZ
@given(body=enc_bodies, slave=st.sampled_from(["SAE_B", "SAE_A", "SAE_X"]))
def test_fuzzed_enc_keys_post_gets_documented_answers_and_errors_consume_nothing(threaded, callers, body, slave):
    before = threaded.fingerprint()
    status, answer = callers["SAE_A"]("POST", f"/api/v1/keys/{slave}/enc_keys", body)
    check_answer(threaded, "/api/v1/keys/{slave_SAE_ID}/enc_keys", "post", before, status, answer)


@FUZZ
@given(query=st.dictionaries(st.sampled_from(["number", "size", "other"]),
                             st.sampled_from(["1", "0", "-1", "8", "256", "x", "", "1e3", "129"]), max_size=3))
def test_fuzzed_enc_keys_get_gets_documented_answers_and_errors_consume_nothing(threaded, callers, query):
    before = threaded.fingerprint()
    status, answer = callers["SAE_A"]("GET", f"/api/v1/keys/SAE_B/enc_keys?{urlencode(query)}")
    check_answer(threaded, "/api/v1/keys/{slave_SAE_ID}/enc_keys", "get", before, status, answer)


@FUZZ
@given(body=dec_bodies, caller=st.sampled_from(["SAE_B", "SAE_A", "SAE_C"]), issued=st.booleans())
def test_fuzzed_dec_keys_gets_documented_answers_and_errors_consume_nothing(threaded, callers, body, caller,
                                                                          issued):
    if issued and isinstance(body, dict) and isinstance(body.get("key_IDs"), list) and body["key_IDs"]:
        _, keys = callers["SAE_A"]("POST", "/api/v1/keys/SAE_B/enc_keys", {"number": 1})
        body["key_IDs"][0] = {"key_ID": keys["keys"][0]["key_ID"]}
    before = threaded.fingerprint()
    status, answer = callers[caller]("POST", "/api/v1/keys/SAE_A/dec_keys", body)
    check_answer(threaded, "/api/v1/keys/{master_SAE_ID}/dec_keys", "post", before, status, answer)


def test_malformed_json_and_unknown_key_id_answers_validate(threaded, callers):
    before = threaded.fingerprint()
    status, answer = callers["SAE_B"]("POST", "/api/v1/keys/SAE_A/dec_keys", raw=b"\xff{")
    check_answer(threaded, "/api/v1/keys/{master_SAE_ID}/dec_keys", "post", before, status, answer)
    status, answer = callers["SAE_B"]("GET", f"/api/v1/keys/SAE_A/dec_keys?key_ID={uuid.uuid4()}")
    assert status == 400
    check_answer(threaded, "/api/v1/keys/{master_SAE_ID}/dec_keys", "get", before, status, answer)
