"""``FlavorSuite``: the behaviour every model flavor must show.

Subclass it and give it a ``case`` fixture (a :class:`FlavorCase`: the flavor's name, a
small fitted model and an input example). The suite checks that the flavor claims the
model (and detection picks it), that save -> load -> predict agrees with the original on
the input example, that a signature is inferred from the example, and that the model
round-trips through the registry by ``models:/NAME/VERSION``.

>>> # class TestMyFlavor(FlavorSuite):
>>> #     @pytest.fixture
>>> #     def case(self): return FlavorCase("myflavor", fit_small_model(), X[:5])
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kiln.registry.flavors import detect_flavor, get_flavor
from kiln.registry.flavors.base import Flavor, unsafe_content, wrap
from kiln.workspace import Workspace


@dataclass(frozen=True)
class FlavorCase:
    """One model for the suite. ``rtol``/``atol`` bound how far a reload may drift
    (zero for formats that store weights exactly)."""

    flavor: str
    model: Any
    input_example: Any
    rtol: float = 1e-6
    atol: float = 1e-6
    pickle_based: bool = False


def assert_same_predictions(got: Any, want: Any, case: FlavorCase) -> None:
    """Predictions equal (labels) or close within the case's tolerance (numbers)."""
    import numpy as np

    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=case.rtol, atol=case.atol)
    else:
        assert got.astype(str).tolist() == want.astype(str).tolist()


class FlavorSuite:
    """Conformance tests for :class:`kiln.registry.flavors.base.Flavor`."""

    @pytest.fixture
    def case(self) -> FlavorCase:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide a `case` fixture")

    @pytest.fixture
    def flavor_ws(self) -> Iterator[Workspace]:
        ws = Workspace.ephemeral()
        yield ws
        ws.close()

    @staticmethod
    def expected(case: FlavorCase) -> Any:
        return wrap(get_flavor(case.flavor), case.model).predict(case.input_example)

    def test_flavor_claims_the_model(self, case: FlavorCase) -> None:
        flavor = get_flavor(case.flavor)
        assert isinstance(flavor, Flavor)
        assert flavor.name == case.flavor
        assert flavor.handles(case.model)
        assert detect_flavor(case.model).name == case.flavor

    def test_save_load_predict_agrees(self, case: FlavorCase, tmp_path: Path) -> None:
        flavor = get_flavor(case.flavor)
        meta = flavor.save(case.model, tmp_path)
        assert any(tmp_path.iterdir()), "save() wrote no file"
        assert bool(unsafe_content(flavor, tmp_path, meta)) == case.pickle_based
        loaded = flavor.load(tmp_path, meta)
        assert_same_predictions(loaded.predict(case.input_example), self.expected(case), case)

    def test_signature_is_inferred(self, case: FlavorCase, flavor_ws: Workspace) -> None:
        mv = flavor_ws.log_model(None, case.model, "conformance",
                                 input_example=case.input_example)
        assert mv is not None and mv.signature is not None
        assert mv.signature.inputs, "no input signature inferred"
        assert mv.signature.outputs, "no output signature inferred"

    def test_registry_round_trip(self, case: FlavorCase, flavor_ws: Workspace) -> None:
        mv = flavor_ws.log_model(None, case.model, "conformance",
                                 input_example=case.input_example)
        assert mv is not None and mv.flavor == case.flavor
        loaded = flavor_ws.load_model(f"models:/conformance/{mv.version}")
        assert loaded.flavor == case.flavor
        assert_same_predictions(loaded.predict(case.input_example), self.expected(case), case)
