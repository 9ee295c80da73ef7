"""Key management: key store, ETSI GS QKD 014 KME service, trusted-node relay, client.

Public API (other packages import only from here or from :mod:`qkd.kms.client`):

* :class:`KmeClient`, :class:`DeliveredKey` and the errors - what an SAE (the gateway) uses;
* :func:`create_kme_app`, :func:`start_kme`, :class:`KmeConfig` - run a KME in-process;
* :func:`make_pki` - a CA with KME and SAE certificates (identity = subject CN) for tests and demos;
* :class:`KeyStore`, :class:`LinkKeySink` - key intake from QKD links.
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
