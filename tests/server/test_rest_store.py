"""The REST metadata store and the HTTP artifact store pass kiln's conformance suites
against a live server (backed by SQLite, and by PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kiln.artifacts.base import ArtifactStore
from kiln.artifacts.http import HttpArtifactStore
from kiln.metadata.base import MetadataStore
from kiln.metadata.rest import RestMetadataStore
from kiln.testing import (
    ArtifactStoreSuite,
    AuditStoreSuite,
    DataStoreSuite,
    FeatureRegistrySuite,
    MetadataStoreSuite,
    MonitoringStoreSuite,
    ServingStoreSuite,
)
from kiln.testing.pipeline_store import PipelineStoreSuite

if TYPE_CHECKING:
    from conftest import LiveServer


class TestRestStoreOnSqlite(MetadataStoreSuite):
    @pytest.fixture
    def store(self, live: LiveServer) -> Iterator[MetadataStore]:
        rest = RestMetadataStore(live.url)
        yield rest
        rest.close()


@pytest.mark.postgres
class TestRestStoreOnPostgres(MetadataStoreSuite):
    @pytest.fixture
    def store(self, postgres_url: str, tmp_path: Path, start_server: Any
              ) -> Iterator[MetadataStore]:
        with start_server(postgres_url, tmp_path / "artifacts", ui=False) as srv:
            rest = RestMetadataStore(srv.url)
            yield rest
            rest.close()


class TestHttpArtifactStore(ArtifactStoreSuite):
    @pytest.fixture
    def server(self, live: LiveServer) -> LiveServer:
        return live

    @pytest.fixture
    def store(self, server: LiveServer) -> Iterator[ArtifactStore]:
        http = HttpArtifactStore(server.url)
        yield http
        http.close()

    @pytest.fixture
    def corrupt(self, server: LiveServer):  # type: ignore[no-untyped-def]
        def overwrite(store: ArtifactStore, sha256: str, data: bytes) -> None:
            server.artifacts.path_of(sha256).write_bytes(data)

        return overwrite


def test_artifacts_stream_through_a_server_on_a_remote_store(tmp_path: Path,
                                                             start_server: Any) -> None:
    import uuid

    url = f"memory://kiln-{uuid.uuid4().hex}"
    with start_server(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "unused", ui=False,
                      artifacts_url=url) as srv:
        http = HttpArtifactStore(srv.url)
        data = bytes(range(256)) * 20_000
        obj = http.put_bytes(data)
        assert http.exists(obj.sha256)
        assert http.get_file(obj.sha256, tmp_path / "copy.bin").read_bytes() == data
        http.close()


# The other subsystems' suites through the REST store, against a live server.
class _OverRest:
    @pytest.fixture
    def store(self, live: LiveServer) -> Iterator[MetadataStore]:
        rest = RestMetadataStore(live.url)
        yield rest
        rest.close()


class TestRestData(_OverRest, DataStoreSuite):
    pass


class TestRestFeatures(_OverRest, FeatureRegistrySuite):
    pass


class TestRestPipelines(_OverRest, PipelineStoreSuite):
    pass


class TestRestServing(_OverRest, ServingStoreSuite):
    pass


class TestRestAudit(_OverRest, AuditStoreSuite):
    pass


class TestRestMonitoring(_OverRest, MonitoringStoreSuite):
    pass


class _OverRestOnPostgres:
    @pytest.fixture
    def store(self, postgres_url: str, tmp_path: Path, start_server: Any
              ) -> Iterator[MetadataStore]:
        with start_server(postgres_url, tmp_path / "artifacts", ui=False) as srv:
            rest = RestMetadataStore(srv.url)
            yield rest
            rest.close()


@pytest.mark.postgres
class TestRestAllOnPostgres(_OverRestOnPostgres, DataStoreSuite, FeatureRegistrySuite,
                            PipelineStoreSuite, ServingStoreSuite, AuditStoreSuite,
                            MonitoringStoreSuite):
    pass


def test_rest_store_is_a_full_metadata_store(live: LiveServer) -> None:
    rest = RestMetadataStore(live.url)
    assert isinstance(rest, MetadataStore)
    rest.close()
