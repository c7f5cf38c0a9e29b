"""The model registry on an explicit Workspace: log, register, alias and load models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.core import WorkspaceCore
from kiln.entities import (
    AliasEvent,
    LineageEdge,
    ModelVersion,
    RegisteredModel,
    RunArtifact,
    Signature,
)
from kiln.exceptions import NotFoundError
from kiln.registry.uri import check_alias, check_name, parse_model_uri, parse_version

if TYPE_CHECKING:
    from kiln.registry.model import LoadedModel


class RegistryClient(WorkspaceCore):
    """Registered models, immutable versions and aliases, addressed by name."""

    def log_model(
        self,
        run_id: str | None,
        model: object,
        name: str | None = None,
        *,
        input_example: Any = None,
        signature: Signature | None = None,
        flavor: str | None = None,
        artifact_path: str = "model",
        description: str = "",
    ) -> ModelVersion | None:
        """Save ``model`` as the run's ``artifact_path`` and, when ``name`` is given,
        register it as a new version of that model (returned)."""
        from kiln.artifacts.tree import read_manifest
        from kiln.registry.model import save_model

        if name is not None:
            check_name(name)
        if run_id is not None:
            self.store.get_run(run_id)
        saved = save_model(
            self.artifacts, model, flavor=flavor, input_example=input_example, signature=signature
        )
        if run_id is not None:
            prefix = artifact_path.strip("/")
            for rel, entry in read_manifest(self.artifacts, saved.artifact).items():
                self.store.log_artifact(
                    RunArtifact(run_id, f"{prefix}/{rel}", entry["sha256"], entry["size"])
                )
        if name is None:
            return None
        return self._register(name, saved.artifact, saved.flavor, saved.signature, run_id,
                              description)

    def register_model(self, model_uri: str, name: str, description: str = "") -> ModelVersion:
        """Register the model at ``model_uri`` (for example ``runs:/ID/model``) as a new version."""
        from kiln.artifacts.tree import put_tree

        check_name(name)
        ref = parse_model_uri(model_uri)
        if ref.run_id is not None:
            import tempfile
            from pathlib import Path

            from kiln.registry.model import read_meta

            with tempfile.TemporaryDirectory() as tmp:
                folder = self.download_run_model(ref.run_id, ref.path, Path(tmp))
                flavor, signature = read_meta(folder)  # registering never unpickles
                tree = put_tree(self.artifacts, folder).sha256
            return self._register(name, tree, flavor, signature, ref.run_id, description)
        mv = self.get_model_version_by_uri(model_uri)
        return self._register(name, mv.artifact, mv.flavor, mv.signature, mv.run_id, description)

    def _register(
        self,
        name: str,
        artifact: str,
        flavor: str,
        signature: Signature | None,
        run_id: str | None,
        description: str,
    ) -> ModelVersion:
        mv = self.store.create_model_version(
            name,
            run_id=run_id,
            flavor=flavor,
            artifact=artifact,
            signature=signature,
            user=self.user,
            created_at=now_ms(),
            description=description,
        )
        if run_id is not None:
            self.store.add_edges(
                [LineageEdge("run", run_id, "model_version", f"{name}/{mv.version}", "produced",
                             mv.created_at)]
            )
            from kiln.lineage import note_output

            note_output("model_version", f"{name}/{mv.version}")
        return mv

    # -- reading ----------------------------------------------------------------------
    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self.store.get_model_version(check_name(name), parse_version(version))

    def get_model_version_by_uri(self, uri: str) -> ModelVersion:
        """Resolve ``models:/NAME@ALIAS``, ``models:/NAME/3`` or ``models:/NAME/latest``."""
        ref = parse_model_uri(uri)
        if ref.run_id is not None:
            raise NotFoundError(f"{uri!r} names a run artifact, not a registered version")
        if ref.alias is not None:
            return self.store.get_model_version(ref.name, self.store.get_alias(ref.name,
                                                                               ref.alias))
        if ref.version is not None:
            return self.store.get_model_version(ref.name, ref.version)
        latest = self.store.get_registered_model(ref.name).latest_version
        return self.store.get_model_version(ref.name, latest)

    def list_models(self) -> list[RegisteredModel]:
        return self.store.list_registered_models()

    def get_model(self, name: str) -> RegisteredModel:
        return self.store.get_registered_model(check_name(name))

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        return self.store.list_model_versions(check_name(name))

    # -- aliases ----------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at ``version``; the move is kept in the alias history."""
        self.store.set_alias(check_name(name), check_alias(alias), parse_version(version),
                             self.user, now_ms())

    def delete_alias(self, name: str, alias: str) -> None:
        self.store.delete_alias(check_name(name), check_alias(alias), self.user, now_ms())

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Every move of the model's aliases (or of one alias), oldest first."""
        return self.store.alias_history(check_name(name), alias)

    # -- loading ----------------------------------------------------------------------
    def load_model(self, uri: str, *, trusted: bool = False) -> LoadedModel:
        """Load ``models:/NAME@ALIAS``, ``models:/NAME/VERSION`` or ``runs:/RUN_ID/model``;
        every file's sha256 is verified first.

        A bundle that runs code on loading (a pickle) written by another user is refused
        unless ``trusted=True`` or ``KILN_TRUST`` names its writer (:mod:`kiln.registry.trust`).
        """
        from kiln.registry.model import load_bundle, load_folder

        ref = parse_model_uri(uri)
        if ref.run_id is not None:
            import tempfile
            from pathlib import Path

            writer = self.store.get_run(ref.run_id).user
            with tempfile.TemporaryDirectory() as tmp:
                folder = self.download_run_model(ref.run_id, ref.path, Path(tmp))
                return load_folder(folder, uri=uri, user=self.user, writer=writer,
                                   trusted=trusted)
        mv = self.get_model_version_by_uri(uri)
        return load_bundle(self.artifacts, mv.artifact, mv, uri, user=self.user, writer=mv.user,
                           trusted=trusted)

    def download_run_model(self, run_id: str, path: str, dest: Any) -> Any:
        """Write the model logged by ``run_id`` under ``path`` into ``dest``."""
        from kiln.registry.model import META_FILE

        prefix = path.strip("/") + "/"
        arts = [a for a in self.store.list_artifacts(run_id) if a.path.startswith(prefix)]
        if not any(a.path == prefix + META_FILE for a in arts):
            raise NotFoundError(f"run {run_id} has no model at {path!r}")
        for art in arts:
            self.artifacts.get_file(art.sha256, dest / art.path.removeprefix(prefix))
        return dest
