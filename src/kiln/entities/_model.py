"""Records of the model registry: registered models, versions, signatures, alias moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Signature:
    """What a model takes and returns.

    ``inputs`` is a list of ``{"name": column, "type": type}`` for tabular
    models, or one ``{"type": "tensor", "dtype": ..., "shape": [...]}`` entry
    for array models; ``outputs`` follows the same form.
    """

    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "outputs": self.outputs}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        return cls(inputs=list(data.get("inputs", [])), outputs=list(data.get("outputs", [])))

    @property
    def input_columns(self) -> list[str]:
        """Names of the input columns, empty for tensor inputs."""
        return [c["name"] for c in self.inputs if "name" in c]


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One immutable version of a registered model.

    ``artifact`` is the sha256 of the model bundle's manifest in the artifact store.
    """

    name: str
    version: int
    run_id: str | None
    flavor: str
    artifact: str
    signature: Signature | None
    created_at: int
    user: str
    description: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model and the versions registered under it."""

    name: str
    created_at: int
    description: str
    latest_version: int
    aliases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """One move of an alias: ``from_version`` is ``None`` when it was created,
    ``to_version`` is ``None`` when it was deleted."""

    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    user: str
    timestamp: int
