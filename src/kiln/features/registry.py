"""Registering definitions: collect them from a module, check sources, diff, apply."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.entities import FeatureDefinition
from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.features.definitions import Entity, FeatureView

if TYPE_CHECKING:
    from kiln.metadata.base import MetadataStore


@dataclass(frozen=True)
class RegisteredView:
    """A feature view as registered: its definition and version number."""

    view: FeatureView
    version: int

    @property
    def ref(self) -> str:
        return f"{self.view.name}@{self.version}"


@dataclass(frozen=True)
class Change:
    """What applying did to one object: ``new``, ``changed`` or ``unchanged``."""

    kind: str
    name: str
    status: str
    version: int
    previous: int | None = None
    details: tuple[str, ...] = ()

    def describe(self) -> str:
        label = self.kind.replace("_", " ")
        if self.status == "new":
            return f"+ {label} {self.name} (v{self.version})"
        if self.status == "unchanged":
            return f"  {label} {self.name} unchanged (v{self.version})"
        lines = [f"~ {label} {self.name} v{self.previous} -> v{self.version}"]
        lines += [f"    {d}" for d in self.details]
        return "\n".join(lines)


@dataclass(frozen=True)
class ApplyReport:
    """The outcome of :func:`apply`: one :class:`Change` per object, in order."""

    changes: list[Change] = field(default_factory=list)

    def describe(self) -> str:
        return "\n".join(c.describe() for c in self.changes) or "nothing to apply"


def collect(module: str) -> list[Entity | FeatureView]:
    """Import ``module`` (a dotted name or a ``.py`` path) and return its top-level
    entities and feature views (plus entities the views use)."""
    mod = _import(module)
    found: list[Entity | FeatureView] = []
    for value in vars(mod).values():
        if isinstance(value, Entity | FeatureView) and value not in found:
            found.append(value)
    if not found:
        raise InvalidArgumentError(
            f"module {module!r} defines no Entity or FeatureView at top level"
        )
    return found


def _import(module: str) -> Any:
    path = Path(module)
    if module.endswith(".py"):
        if not path.is_file():
            raise NotFoundError(f"definitions file {module!r} does not exist")
        name = f"kiln_features_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.resolve().parent))
        try:
            spec.loader.exec_module(mod)
        finally:
            sys.path.remove(str(path.resolve().parent))
        return mod
    if str(Path.cwd()) not in sys.path and "" not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise NotFoundError(
                f"definitions module {module!r} cannot be found; give a dotted module name "
                "importable from the current directory or a path to a .py file"
            ) from None
        raise


def definition_specs(objects: Iterable[Entity | FeatureView]) -> list[tuple[str, str, dict[str,
                                                                                          Any]]]:
    """``(kind, name, spec)`` for every object and every entity a view uses, entities first;
    two different objects with one name are an error."""
    entities: dict[str, Entity] = {}
    views: dict[str, FeatureView] = {}

    def add_entity(e: Entity) -> None:
        if e.name in entities and entities[e.name] != e:
            raise InvalidArgumentError(f"entity {e.name!r} is defined twice, differently")
        entities[e.name] = e

    for obj in objects:
        if isinstance(obj, FeatureView):
            if obj.name in views and views[obj.name] != obj:
                raise InvalidArgumentError(f"feature view {obj.name!r} is defined twice")
            views[obj.name] = obj
            for e in obj.entities:
                add_entity(e)
        elif isinstance(obj, Entity):
            add_entity(obj)
        else:
            raise InvalidArgumentError(
                f"{obj!r} is not an Entity or a FeatureView; only those can be applied"
            )
    return ([("entity", n, e.to_spec()) for n, e in entities.items()]
            + [("feature_view", n, v.to_spec()) for n, v in views.items()])


def apply(store: MetadataStore, objects: Iterable[Entity | FeatureView], user: str,
          now: int, resolve: Callable[[FeatureView], FeatureView] | None = None
          ) -> ApplyReport:
    """Check every view's source, then register everything in one transaction.

    ``resolve`` readies a view's source for reading (a dataset version: its files, and
    ``@latest`` pinned to a number, which is what gets registered)."""
    from kiln.features.offline import check_source, connect
    from kiln.metadata.base import DefinitionSpec

    specs = definition_specs(objects)
    con = connect()
    try:
        for kind, name, spec in specs:
            if kind == "feature_view":
                view = FeatureView.from_spec(name, spec)
                if resolve is not None:
                    view = resolve(view)
                    spec["source"] = view.source.to_spec()
                check_source(view, con)
    finally:
        con.close()
    previous = {(d.kind, d.name): d for d in store.list_feature_definitions()}
    applied = store.apply_feature_definitions(
        [DefinitionSpec(k, n, s) for k, n, s in specs], user, now
    )
    changes = []
    for d in applied:
        before = previous.get((d.kind, d.name))
        if before is None:
            changes.append(Change(d.kind, d.name, "new", d.version))
        elif before.version == d.version:
            changes.append(Change(d.kind, d.name, "unchanged", d.version))
        else:
            changes.append(Change(d.kind, d.name, "changed", d.version, before.version,
                                  tuple(diff_specs(before.spec, d.spec))))
    return ApplyReport(changes)


def diff_specs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two specs (features listed one by one)."""
    lines: list[str] = []
    old_f = {f["name"]: f["dtype"] for f in old.get("features", [])}
    new_f = {f["name"]: f["dtype"] for f in new.get("features", [])}
    lines += [f"+ feature {n} ({t})" for n, t in new_f.items() if n not in old_f]
    lines += [f"- feature {n} ({t})" for n, t in old_f.items() if n not in new_f]
    lines += [f"~ feature {n}: {old_f[n]} -> {t}" for n, t in new_f.items()
              if n in old_f and old_f[n] != t]
    for key in sorted(set(old) | set(new)):
        if key != "features" and old.get(key) != new.get(key):
            lines.append(f"~ {key}: {old.get(key)!r} -> {new.get(key)!r}")
    return lines


def view_from_definition(d: FeatureDefinition) -> RegisteredView:
    return RegisteredView(FeatureView.from_spec(d.name, d.spec), d.version)
