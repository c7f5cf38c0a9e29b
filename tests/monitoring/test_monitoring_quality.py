"""Data quality of a window against a kiln.data schema, a reference profile or a signature."""

from __future__ import annotations

import pandas as pd
import pytest

from kiln.data import infer_schema
from kiln.entities import Signature
from kiln.exceptions import InvalidArgumentError
from kiln.monitoring import Profile, QualityResult, check_quality

REF = pd.DataFrame({"age": [20, 30, 40, 50, 60] * 20, "plan": ["a", "b"] * 50})


def test_against_a_schema() -> None:
    window = pd.DataFrame({"age": [25, None, 900, 35], "plan": ["a", "z", "b", "y"],
                           "extra": [1, 2, 3, 4]})
    q = check_quality(window, infer_schema(REF))
    assert q.missing_values == {"age": 1} and q.out_of_range == {"age": 1}
    assert q.unseen_categories == {"plan": {"count": 2, "values": ["y", "z"]}}
    assert q.extra_columns == ["extra"] and q.missing_columns == []
    assert q.missing_rate == pytest.approx(1 / 8) and not q.ok
    assert QualityResult.from_dict(q.to_dict()) == q


def test_against_a_reference_profile() -> None:
    q = check_quality(pd.DataFrame({"age": [30, 1000]}), Profile.from_frame(REF))
    assert q.missing_columns == ["plan"] and q.out_of_range == {"age": 1}


def test_against_a_model_signature() -> None:
    sig = Signature(inputs=[{"name": "age", "type": "long"}, {"name": "plan", "type": "string"}],
                    outputs=[])
    q = check_quality(pd.DataFrame({"age": ["x", "y"]}), sig)
    assert q.missing_columns == ["plan"] and q.type_changes == {"age": "string"}
    ok = check_quality(pd.DataFrame({"age": [1, 2], "plan": ["a", "b"]}), sig)
    assert ok.ok and ok.issues == [] and ok.missing_rate == 0.0


def test_an_empty_window_and_bad_input() -> None:
    q = check_quality(REF.iloc[:0], infer_schema(REF))
    assert q.empty and q.missing_rate is None
    with pytest.raises(InvalidArgumentError, match="Signature"):
        check_quality(REF, {"age": "int"})  # type: ignore[arg-type]
