"""Every error kiln raises on purpose.

The tree::

    KilnError                      one line for the user: the bad value and what is accepted
    ├── ConfigError                a setting that cannot be used (bad URL, bad kiln.yaml)
    ├── StoreUnavailableError      the metadata store cannot be reached
    ├── NotFoundError              unknown run, experiment, model, version, alias or artifact
    ├── InvalidArgumentError       a value of the wrong type or shape
    │   └── FilterSyntaxError      a malformed ``search_runs`` filter or ``order_by``
    ├── ConflictError              the object exists already or changed under us
    ├── NoActiveRunError           a fluent call that needs ``kiln.start_run()`` first
    ├── ArtifactCorruptedError     an artifact whose bytes no longer match its sha256
    ├── SignatureError             model input that does not match the model's signature
    ├── MigrationError             the database schema is newer than this kiln
    ├── PipelineError              a pipeline step failed (its error, after retries)
    │   └── StepTimeoutError       a step attempt ran longer than its timeout
    ├── AuthenticationError        no API token, or a wrong or revoked one (HTTP 401)
    └── PermissionDeniedError      a role or ownership that does not allow the call (HTTP 403)
        └── UntrustedModelError    a pickle-based model written by someone else, not trusted

The CLI prints ``error: <message>`` and exits 2 for any of them; nothing else
is caught, so a real bug still shows its traceback.
"""

from __future__ import annotations


class KilnError(Exception):
    """Base class: the message is one line naming the bad value and what is accepted."""


class ConfigError(KilnError):
    """A setting (environment variable, ``kiln.yaml`` key or argument) cannot be used."""


class StoreUnavailableError(KilnError):
    """The metadata store at the configured URL cannot be reached or opened."""


class NotFoundError(KilnError):
    """The named object does not exist."""


class InvalidArgumentError(KilnError, ValueError):
    """An argument has the wrong type or an unaccepted value."""


class FilterSyntaxError(InvalidArgumentError):
    """A ``search_runs`` filter or ``order_by`` expression cannot be parsed."""


class ConflictError(KilnError):
    """The object already exists, or was changed concurrently."""


class NoActiveRunError(KilnError):
    """A fluent logging call was made outside ``kiln.start_run()``."""


class ArtifactCorruptedError(KilnError):
    """An artifact's bytes do not hash to the sha256 it was stored under."""


class SignatureError(InvalidArgumentError):
    """Model input does not match the model's signature."""


class MigrationError(KilnError):
    """The database was written by a newer kiln, or its schema cannot be upgraded."""


class PipelineError(KilnError):
    """A pipeline run failed: the message names the step and its error."""


class StepTimeoutError(PipelineError):
    """A step attempt ran longer than the step's ``timeout``."""
class AuthenticationError(KilnError):
    """The kiln server needs an API token and got none, a wrong one or a revoked one."""


class PermissionDeniedError(KilnError):
    """The caller's role (viewer, editor, admin) or model ownership does not allow the call."""


class UntrustedModelError(PermissionDeniedError):
    """A model bundle that runs code on loading, written by another user and not trusted."""


__all__ = [
    "ArtifactCorruptedError",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "FilterSyntaxError",
    "InvalidArgumentError",
    "KilnError",
    "MigrationError",
    "NoActiveRunError",
    "NotFoundError",
    "PermissionDeniedError",
    "PipelineError",
    "SignatureError",
    "StepTimeoutError",
    "StoreUnavailableError",
    "UntrustedModelError",
]
