"""Standard Webhooks signatures (https://www.standardwebhooks.com/) and secret storage.

    webhook-id:        msg_<…>, the same on every retry of a delivery
    webhook-timestamp: Unix seconds of this attempt
    webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">

keyed with the base64-decoded part of the `whsec_…` secret.
"""

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet

from app.core.config import get_settings

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": "campus-safety-webhooks/1",
    }


def _fernet() -> Fernet:
    # Derived from SECRET_KEY: rotating SECRET_KEY means re-creating the subscriptions.
    digest = hashlib.sha256(b"webhook-secret:" + get_settings().secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()
