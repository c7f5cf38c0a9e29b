"""The part of a Workspace every subsystem builds on: settings, metadata store, artifact store."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kiln.settings import Settings

if TYPE_CHECKING:
    from kiln.artifacts.base import ArtifactStore
    from kiln.metadata.base import MetadataStore

Self = TypeVar("Self", bound="WorkspaceCore")


class WorkspaceCore:
    """Opens the stores named by the settings (or by explicit URLs) and closes them."""

    def __init__(
        self,
        db_url: str | None = None,
        artifacts_url: str | None = None,
        *,
        home: str | Path | None = None,
        settings: Settings | None = None,
        stores: tuple[MetadataStore, ArtifactStore] | None = None,
    ) -> None:
        from kiln.artifacts import open_artifact_store
        from kiln.metadata import open_metadata_store

        if settings is None:
            settings = Settings.load(home=home, db_url=db_url, artifacts_url=artifacts_url)
        self.settings = settings
        self._closers: list[Any] = []
        self.store: MetadataStore
        self.artifacts: ArtifactStore
        self._owns_store = stores is None
        if stores is not None:
            self.store, self.artifacts = stores
        elif settings.server:
            # KILN_SERVER: metadata and artifacts both go through the kiln server.
            from kiln.artifacts.http import HttpArtifactStore
            from kiln.metadata.rest import RestMetadataStore

            self.store = RestMetadataStore(settings.server, settings.token)
            if settings.artifacts_url != str(settings.home / "artifacts"):
                # KILN_ARTIFACTS_URL set too: this client reaches the object store itself.
                self.artifacts = open_artifact_store(settings.artifacts_url)
            else:
                http_artifacts = HttpArtifactStore(settings.server, settings.token)
                self.artifacts = http_artifacts
                self._closers.append(http_artifacts.close)
        else:
            self.store = open_metadata_store(settings.db_url)
            self.artifacts = open_artifact_store(settings.artifacts_url)

    @classmethod
    def over(cls: type[Self], store: MetadataStore, artifacts: ArtifactStore,
             settings: Settings) -> Self:
        """A workspace over stores that are already open (``kiln server`` uses it); closing
        it leaves them open."""
        return cls(settings=settings, stores=(store, artifacts))

    @classmethod
    def ephemeral(cls: type[Self]) -> Self:
        """A workspace in a new temporary folder, removed when the workspace is closed
        or garbage-collected. Meant for tests and notebooks."""
        home = Path(tempfile.mkdtemp(prefix="kiln-"))
        ws = cls(settings=Settings(home=home))
        ws._closers.append(lambda: shutil.rmtree(home, ignore_errors=True))
        weakref.finalize(ws, shutil.rmtree, home, True)
        return ws

    @property
    def user(self) -> str:
        return self.settings.user

    def close(self) -> None:
        """Write pending metrics and release connections."""
        if self._owns_store:
            self.store.close()
        for closer in self._closers:
            closer()
        self._closers.clear()

    def __enter__(self: Self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        from kiln.metadata.sql.engine import redact

        if self.settings.server:
            return f"{type(self).__name__}(server={self.settings.server!r})"
        return (
            f"{type(self).__name__}(db_url={redact(self.settings.db_url)!r}, "
            f"artifacts_url={self.settings.artifacts_url!r})"
        )
