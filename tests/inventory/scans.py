"""What several inventory tests share: two versions of one small application (before and after a migration),
and the real ``qshift`` entry point run in-process."""

from __future__ import annotations

import pytest

#: An application on RSA-2048 and MD5.
OLD_CODE = """import hashlib
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
h = hashlib.md5(b"x")
"""
#: The same application migrated: ML-DSA-65 and SHA-256.
NEW_CODE = """import hashlib
from cryptography.hazmat.primitives.asymmetric import mldsa
key = mldsa.MLDSA65PrivateKey.generate()
h = hashlib.sha256(b"x")
"""


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the real ``qshift`` entry point run in-process (error mapping and exit
    codes included)."""
    from qshift.cli import main

    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
