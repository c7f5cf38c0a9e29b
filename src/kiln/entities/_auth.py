"""Records of the server's access control: users and their API tokens."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("viewer", "editor", "admin")


@dataclass(frozen=True, slots=True)
class User:
    """A person or service account; ``role`` is one of ``viewer``, ``editor``, ``admin``."""

    name: str
    role: str
    created_at: int


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token's public record. Only the sha256 of the secret is stored."""

    token_id: str
    user: str
    label: str
    created_at: int
    revoked_at: int | None = None
