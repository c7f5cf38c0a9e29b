"""The model a server or a batch job runs for a version: its checked ONNX conversion when
one exists (ONNX Runtime is usually faster), else the version's own flavor.

A conversion is "checked" when :func:`kiln.registry.convert.convert_to_onnx` registered it:
it writes the ``converted_to_onnx`` lineage edge only after the converted model agreed
with the original on the input example. ``KILN_PREFER_ONNX=0`` turns the preference off.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from kiln.exceptions import NotFoundError
from kiln.registry.convert import RELATION

if TYPE_CHECKING:
    from kiln.entities import ModelVersion
    from kiln.registry.client import RegistryClient
    from kiln.registry.model import LoadedModel


def onnx_conversion(ws: RegistryClient, name: str, version: int) -> ModelVersion | None:
    """The newest checked ONNX conversion of ``name``/``version``, if any."""
    found: list[ModelVersion] = []
    for edge in ws.store.edges_from("model_version", f"{name}/{version}"):
        if edge.relation != RELATION or edge.dst_kind != "model_version":
            continue
        target_name, _, target_version = edge.dst_id.rpartition("/")
        try:
            mv = ws.store.get_model_version(target_name, int(target_version))
        except (NotFoundError, ValueError):
            continue
        if mv.flavor == "onnx":
            found.append(mv)
    return max(found, key=lambda mv: mv.version) if found else None


def load_for_inference(ws: RegistryClient, name: str, version: int, *,
                       prefer_onnx: bool = True) -> LoadedModel:
    """Load ``name``/``version`` for serving: through ONNX Runtime when a checked conversion
    exists (the result still reports the source version and its signature), else natively."""
    from kiln.registry.model import LoadedModel

    uri = f"models:/{name}/{version}"
    if prefer_onnx and os.environ.get("KILN_PREFER_ONNX", "1") != "0":
        target = onnx_conversion(ws, name, version)
        if target is not None:
            source = ws.get_model_version(name, version)
            onnx = ws.load_model(f"models:/{target.name}/{target.version}")
            return LoadedModel(onnx.raw, "onnx", source.signature, source, uri)
    return ws.load_model(uri)
