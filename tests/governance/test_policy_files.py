"""Where policies are found: policies/<model>.yaml|.py and kiln-policy.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.exceptions import ConfigError
from kiln.governance.gates.builtin import MetricGate
from kiln.governance.policy import find_policy

CHECK = "{type: metric, metric: accuracy, dataset: holdout, min: 0.5}"


def test_yaml_in_policies_folder_resolves_paths_from_the_project(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "m.yaml").write_text(
        f"model: m\ndatasets:\n  holdout: {{path: data/h.csv, label: y}}\nchecks: [{CHECK}]\n")
    policy = find_policy("m", tmp_path)
    assert policy is not None and policy.base == tmp_path.resolve()
    assert isinstance(policy.checks[0], MetricGate) and policy.aliases == ("production",)
    assert find_policy("other", tmp_path) is None


def test_shared_file_with_several_models(tmp_path: Path) -> None:
    (tmp_path / "kiln-policy.yaml").write_text(
        "models:\n"
        f"  a:\n    label: y\n    datasets: {{holdout: h.csv}}\n    checks: [{CHECK}]\n"
        "  b:\n    aliases: [staging]\n    checks: [{type: signature}]\n")
    a, b = find_policy("a", tmp_path), find_policy("b", tmp_path)
    assert a is not None and a.datasets["holdout"].label == "y"
    assert b is not None and b.guards("staging") and not b.guards("production")
    assert find_policy("c", tmp_path) is None


def test_python_policy(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "m.py").write_text(
        "import pandas as pd\n"
        "policy = {'model': 'm', 'datasets': {'holdout': {'data': lambda: pd.DataFrame("
        "{'x': [1], 'y': [0]}), 'label': 'y'}}, 'checks': [{'type': 'metric', "
        "'metric': 'accuracy', 'dataset': 'holdout', 'min': 0.5}]}\n")
    policy = find_policy("m", tmp_path)
    assert policy is not None and callable(policy.datasets["holdout"].source)
    (tmp_path / "policies" / "m.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(ConfigError, match="policy failed to import: RuntimeError: boom"):
        find_policy("m", tmp_path)


def test_policy_for_another_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "m.yaml").write_text("model: other\nchecks: []\n")
    with pytest.raises(ConfigError, match="policy is for model 'other', not 'm'"):
        find_policy("m", tmp_path)


def test_parquet_without_an_engine_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pyarrow is installed")
    from kiln.exceptions import InvalidArgumentError
    from kiln.governance.datasets import load_frame

    (tmp_path / "h.parquet").write_bytes(b"PAR1")
    with pytest.raises(InvalidArgumentError, match="pip install pyarrow"):
        load_frame("h.parquet", tmp_path)
