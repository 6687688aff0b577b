"""possync's exceptions. Every message is one line a user can act on and holds no secret.

PossyncError
├── ConfigError            a setting is missing or invalid
├── DatabaseError          PostgreSQL is unreachable or refused us
│   └── SchemaMissingError the tables are not there: run `possync migrate`
├── SourceError            the POS API failed
│   ├── AuthError          the token was rejected (critical: stops the run)
│   ├── RateLimitedError   429 that outlived our retries
│   └── TransientError     5xx, timeout, reset, truncated body (retried first)
├── PaginationError        the API returned a cursor that does not advance
└── SyncLockedError        another run of the same (source, entity) holds the lock
"""

from __future__ import annotations


class PossyncError(Exception):
    """Base class: the message is safe to show a user."""


class ConfigError(PossyncError):
    pass


class DatabaseError(PossyncError):
    pass


class SchemaMissingError(DatabaseError):
    pass


class SourceError(PossyncError):
    pass


class AuthError(SourceError):
    pass


class RateLimitedError(SourceError):
    pass


class TransientError(SourceError):
    pass


class PaginationError(SourceError):
    pass


class SyncLockedError(PossyncError):
    pass
