"""Settings, light imports, schema upgrade, composite and string keys, definition checks."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from features_data import ANCHOR

import kiln
from kiln.exceptions import InvalidArgumentError
from kiln.features import Entity, Feature, FeatureView, ParquetSource, SqlSource
from kiln.settings import Settings
from kiln.workspace import Workspace


def test_online_store_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(home=tmp_path).online_store == f"sqlite:///{tmp_path / 'online.db'}"
    (tmp_path / "kiln.yaml").write_text("online_store: redis://127.0.0.1:6379/3\n")
    assert Settings.load(tmp_path).online_store == "redis://127.0.0.1:6379/3"
    monkeypatch.setenv("KILN_ONLINE_STORE", "redis://127.0.0.1:6379/0")
    assert Settings.load(tmp_path).online_store == "redis://127.0.0.1:6379/0"


def test_kiln_features_imports_nothing_heavy() -> None:
    code = ("import sys, kiln; kiln.features.Entity('e'); heavy = [m for m in ('duckdb', "
            "'pyarrow', 'redis', 'starlette', 'pandas', 'sqlalchemy') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_0001_database_is_upgraded(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from kiln.metadata.sql import SqlMetadataStore
    from kiln.metadata.sql.engine import create_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location",
                        str(Path(kiln.__file__).parent / "metadata" / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    store = SqlMetadataStore(url)
    assert store.list_feature_definitions() == []
    store.close()


def test_composite_and_string_keys(ws: Workspace, tmp_path: Path) -> None:
    src = pd.DataFrame({
        "store": ["a", "a", "b", "b", "a"],
        "sku": [1, 1, 1, 2, 2],
        "event_timestamp": [ANCHOR - pd.Timedelta(hours=h) for h in (5, 1, 3, 2, 4)],
        "price": [1.0, 2.0, 3.0, 4.0, 5.0],
        "label": ["x", "y", "z", "w", "v"],
    })
    path = tmp_path / "prices.parquet"
    src.to_parquet(path, index=False)
    shop, item = Entity("shop", join_keys=["store"]), Entity("item", join_keys=["sku"])
    view = FeatureView("prices", entities=[shop, item], source=ParquetSource(str(path)),
                       features=[Feature("price", "float64"), Feature("label", "string")])
    kiln.features.apply([view])
    entities = pd.DataFrame({"store": ["a", "a", "b", "c"], "sku": [1, 1, 1, 1],
                             "event_timestamp": [ANCHOR - pd.Timedelta(hours=h)
                                                 for h in (3, 0, 0, 0)]})
    train = kiln.features.get_training_set(entities, ["prices:price", "prices:label"])
    assert train.price.tolist()[:3] == [1.0, 2.0, 3.0] and pd.isna(train.price.iloc[3])
    assert train.label.tolist()[:3] == ["x", "y", "z"]
    kiln.features.materialize(end=ANCHOR)
    online = kiln.features.get_online_features(
        [{"store": "a", "sku": 1}, {"store": "b", "sku": 2}, {"store": "c", "sku": 1}],
        ["prices:price", "prices:label"])
    assert online.values == {"price": [2.0, 4.0, None], "label": ["y", "w", None]}


def test_definitions_reject_bad_values(tmp_path: Path) -> None:
    e = Entity("driver")
    assert e.join_keys == ("driver",)
    with pytest.raises(InvalidArgumentError, match="'float'; accepted: float64"):
        Feature("x", "float")
    with pytest.raises(InvalidArgumentError, match="name 'bad name'"):
        Entity("bad name")
    with pytest.raises(InvalidArgumentError, match="declared twice or is a join key"):
        FeatureView("v", entities=[e], source="x.parquet", features=[Feature("driver")])
    with pytest.raises(InvalidArgumentError, match="ttl"):
        FeatureView("v", entities=[e], source="x.parquet", features=["a"],
                    ttl=timedelta(seconds=-1))
    with pytest.raises(InvalidArgumentError, match="needs entities"):
        FeatureView("v", entities=[], source="x.parquet", features=["a"])
    with pytest.raises(InvalidArgumentError, match="source 42"):
        FeatureView("v", entities=[e], source=42, features=["a"])
    sql = FeatureView("v", entities=[e], source="  select * from t", features=["a"])
    assert isinstance(sql.source, SqlSource)
    spec = FeatureView("v", entities=[e], source="rel/x.parquet", features=["a"]).to_spec()
    assert Path(spec["source"]["path"]).is_absolute()
