"""Tokens and alert URLs encrypted at rest with Fernet keys from POSSYNC_ENCRYPTION_KEY.

`cryptography`'s MultiFernet takes several keys: it encrypts with the first and decrypts with
any, so a key is rotated by putting a new one in front, re-encrypting (`possync shops
rotate-key`), then dropping the old one.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from possync.errors import ConfigError

NO_KEY = (
    "POSSYNC_ENCRYPTION_KEY is not set: shops' tokens are stored encrypted; make a key with "
    "`possync shops generate-key` and set it in the environment of every possync process"
)


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


class TokenCipher:
    """Encrypts with the newest key, decrypts with any of them."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigError(NO_KEY)
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise ConfigError(
                    f"POSSYNC_ENCRYPTION_KEY: key {position} is not a Fernet key (32 bytes, "
                    "url-safe base64); make one with `possync shops generate-key`"
                ) from None
        self._multi = MultiFernet(fernets)

    @classmethod
    def from_setting(cls, setting: SecretStr | None) -> TokenCipher:
        text = setting.get_secret_value() if setting is not None else ""
        return cls([key for key in text.replace(",", " ").split() if key])

    def encrypt(self, plain: str) -> bytes:
        return self._multi.encrypt(plain.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._multi.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken:
            raise ConfigError(
                "a shop's credentials were encrypted with a key that is not in "
                "POSSYNC_ENCRYPTION_KEY: add that key back (after the newest)"
            ) from None

    def rotate(self, token: bytes) -> bytes:
        """The same secret under the newest key."""
        try:
            return self._multi.rotate(bytes(token))
        except InvalidToken:
            raise ConfigError(
                "a shop's credentials were encrypted with a key that is not in "
                "POSSYNC_ENCRYPTION_KEY: add that key back (after the newest) and rotate again"
            ) from None
