"""Key management: key store, ETSI GS QKD 014 KME service, trusted-node relay, topology, client.

Modules: the key store - ``store`` (:class:`KeyStore`, the facade that opens the parts and runs units of
work), ``pools`` (pool streams: deposited key material, per-stream offsets), ``ledger`` (issued keys and their
delivery states, at most once), ``unitofwork`` (``StoreTx``: every write, and the durability it needs),
``database`` (the SQLite WAL file, transactions, counters), all AES-256-GCM at rest; ``masterkey``
(0600 node key), ``api`` (ETSI GS QKD 014 V1.1.1 formats), ``server`` (aiohttp app), ``groupcommit``
(one transaction and one WAL sync per group of requests, synced off the event loop), ``client``
(:class:`KmeClient`), ``relay`` (hop-by-hop one-time pad), ``topology`` (pools, routing), ``feeds`` and
``linkend`` (key intake: pipeline sink, link ends run on the emulator or on time-tag files, synthetic
feeds), ``pki`` (test CA and certificates), ``testing`` (in-process KMEs), ``demo``, ``cli``
(``qshift kme serve [--workers N]|status|pki``), and ``openapi.json`` (the service's OpenAPI 3.1 description).

Public API (other packages import only from here or from :mod:`qkd.kms.client`):

* :class:`KmeClient`, :class:`DeliveredKey` and the errors - what an SAE (the gateway) uses. Errors:
  :class:`KmeUnavailableError` (refused, timeout, TLS, 5xx; its subclass :class:`LinkAlarmError` when a
  link on the key's path is alarmed), :class:`KeyExhaustedError` (503, not enough key),
  :class:`KmeRefusedError` (400/401, ``.status`` and ``.server_message``), all :class:`KmsError`.
* :func:`create_kme_app` / :func:`start_kme` (``RunningKme.url``, ``.service``), :class:`KmeConfig`;
  ``service.deposit(pool, bytes)`` and ``service.set_link_alarm(link, alarm, qber)`` for tests and
  scenarios; ``qkd.kms.testing.single_node_config`` / ``chain_node_config`` build configs.
* :func:`make_pki` - a CA with KME and SAE certificates. **Identity = subject CN** (node ID or SAE ID;
  KME certificates also carry ``DNS:<id>.kme.qshift.invalid`` for peer checks).
* :class:`KeyStore`, :class:`LinkKeySink` - key intake; ``LinkKeySink`` is a ``qkd.postprocess`` KeySink.
"""

from qkd.kms.client import KmeAdminClient, KmeClient
from qkd.kms.config import KmeConfig
from qkd.kms.errors import KeyExhaustedError, KmeRefusedError, KmeUnavailableError, KmsError, LinkAlarmError, RelayError
from qkd.kms.feeds import LinkKeySink
from qkd.kms.keys import DeliveredKey
from qkd.kms.pki import make_pki
from qkd.kms.server import KME_SERVICE, create_kme_app, start_kme
from qkd.kms.store import KeyStore

__all__ = ["KmeClient", "KmeAdminClient", "DeliveredKey", "KmsError", "KmeUnavailableError", "KeyExhaustedError",
           "KmeRefusedError", "LinkAlarmError", "RelayError", "KmeConfig", "create_kme_app", "start_kme",
           "KME_SERVICE", "make_pki", "KeyStore", "LinkKeySink"]
