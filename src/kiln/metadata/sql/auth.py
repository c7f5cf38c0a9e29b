"""Users, hashed API tokens and model owners in SQL (used by ``kiln server``)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kiln.entities import ApiToken, User
from kiln.entities._auth import ROLES
from kiln.exceptions import ConflictError, InvalidArgumentError, NotFoundError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase


class SqlAuth(SqlBase):
    """The access-control part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def create_user(self, name: str, role: str, created_at: int) -> User:
        if role not in ROLES:
            raise InvalidArgumentError(f"role {role!r} is not accepted; use one of "
                                       f"{', '.join(ROLES)}")
        if not name or len(name) > 255:
            raise InvalidArgumentError(f"user name {name!r} is not accepted; give 1-255 chars")
        try:
            with self._write() as conn:
                conn.execute(t.users.insert().values(name=name, role=role,
                                                     created_at=created_at))
        except IntegrityError:
            raise ConflictError(f"user {name!r} exists already") from None
        return User(name, role, created_at)

    def get_user(self, name: str) -> User:
        with self._read() as conn:
            row = conn.execute(select(t.users).where(t.users.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"user {name!r} does not exist; create it with "
                                "`kiln users create`")
        return User(row.name, row.role, row.created_at)

    def list_users(self) -> list[User]:
        with self._read() as conn:
            rows = conn.execute(select(t.users).order_by(t.users.c.name))
            return [User(r.name, r.role, r.created_at) for r in rows]

    def create_token(self, token_id: str, user: str, token_sha256: str, label: str,
                     created_at: int) -> ApiToken:
        """Record a token by the sha256 of its secret (the secret itself is never stored)."""
        self.get_user(user)
        with self._write() as conn:
            conn.execute(t.api_tokens.insert().values(
                token_id=token_id, user=user, token_sha256=token_sha256, label=label,
                created_at=created_at))
        return ApiToken(token_id, user, label, created_at)

    def revoke_token(self, token_id: str, revoked_at: int) -> None:
        tok = t.api_tokens
        with self._write() as conn:
            done = conn.execute(update(tok).where(tok.c.token_id == token_id)
                                .values(revoked_at=revoked_at)).rowcount
        if not done:
            raise NotFoundError(f"token {token_id!r} does not exist; see `kiln tokens list`")

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        tok = t.api_tokens
        stmt = select(tok).order_by(tok.c.created_at, tok.c.token_id)
        if user is not None:
            stmt = stmt.where(tok.c.user == user)
        with self._read() as conn:
            return [ApiToken(r.token_id, r.user, r.label, r.created_at, r.revoked_at)
                    for r in conn.execute(stmt)]

    def find_token(self, token_sha256: str) -> tuple[User, ApiToken] | None:
        """The live (not revoked) token with this hash and its user, or ``None``."""
        tok, u = t.api_tokens, t.users
        with self._read() as conn:
            row = conn.execute(
                select(tok, u.c.role).join(u, u.c.name == tok.c.user)
                .where(tok.c.token_sha256 == token_sha256, tok.c.revoked_at.is_(None))
            ).first()
        if row is None:
            return None
        return (User(row.user, row.role, 0),
                ApiToken(row.token_id, row.user, row.label, row.created_at, None))

    def add_model_owner(self, name: str, user: str) -> None:
        with self._write() as conn:
            stmt = self._insert(t.model_owners).values(name=name, user=user)
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["name", "user"]))

    def model_owners(self, name: str) -> list[str]:
        mo = t.model_owners
        with self._read() as conn:
            return list(conn.execute(select(mo.c.user).where(mo.c.name == name)
                                     .order_by(mo.c.user)).scalars())
