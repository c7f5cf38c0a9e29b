"""Data-parallel training on Ray Train: two workers match one process on the same data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiln.exceptions import InvalidArgumentError
from kiln.workspace import Workspace

torch = pytest.importorskip("torch")
ray = pytest.importorskip("ray")

# Each worker takes one half of every batch; DDP averages the two half-batch gradients,
# which for halves of equal size is the full-batch gradient: the same SGD steps as one
# process on all the data.
TOY = '''
import ray.train
import ray.train.torch
import torch

import kiln.train


def make_model():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 1)


def data():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(64, 3, generator=g)
    y = X @ torch.tensor([[1.5], [-2.0], [0.5]]) + 0.3 + 0.05 * torch.randn(64, 1, generator=g)
    return X, y


def step(model, opt, X, y):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(X), y)
    loss.backward()
    opt.step()
    return loss.item()


def train_worker(config):
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    X, y = data()
    X, y = X[rank::world], y[rank::world]
    model = ray.train.torch.prepare_model(make_model())
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"])
    for epoch in range(config["epochs"]):
        loss = step(model, opt, X, y)
        last = epoch == config["epochs"] - 1
        kiln.train.report({"loss": loss, "rank": rank, "world": world},
                          model=model if last or epoch % 4 == 1 else None)
'''


@pytest.fixture
def toy(tmp_path: Path) -> Any:
    import cloudpickle

    from kiln.pipelines.loader import import_module

    path = tmp_path / "train_toy.py"
    path.write_text(TOY)
    module = import_module(str(path))
    cloudpickle.register_pickle_by_value(module)
    return module


@pytest.mark.slow
def test_two_ray_workers_match_single_process_training(
        ray_local: None, ws: Workspace, toy: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import kiln

    # The Ray Train controller polls its workers every 2 s by default: poll faster.
    monkeypatch.setenv("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.2")
    epochs, lr = 8, 0.1
    result = kiln.train.distributed(toy.train_worker, num_workers=2, executor="ray",
                                    config={"lr": lr, "epochs": epochs},
                                    model_fn=toy.make_model, register_as="toy-net",
                                    experiment="ddp")
    single = toy.make_model()
    opt = torch.optim.SGD(single.parameters(), lr=lr)
    X, y = toy.data()
    for _ in range(epochs):
        toy.step(single, opt, X, y)
    for got, want in zip(result.model.state_dict().values(), single.state_dict().values(),
                         strict=True):
        assert torch.allclose(got, want, atol=1e-5), (got, want)

    run = ws.get_run(result.run_id)
    assert run.status.value == "FINISHED" and run.params["num_workers"] == "2"
    assert run.params["lr"] == "0.1"
    ranks = ws.get_metric_history(result.run_id, "rank")
    assert [m.step for m in ranks] == list(range(epochs))
    assert {m.value for m in ranks} == {0.0}  # metrics come from rank 0 only
    assert result.metrics["world"] == 2.0
    checkpoints = sorted(a.path for a in ws.list_artifacts(result.run_id)
                         if a.path.startswith("checkpoints/"))
    assert checkpoints == ["checkpoints/00001/model.pt", "checkpoints/00005/model.pt",
                           "checkpoints/00007/model.pt"]
    assert result.checkpoints == 3
    mv = result.model_version
    assert mv is not None and mv.name == "toy-net" and mv.run_id == result.run_id
    assert mv.flavor == "torch"  # registered through the PyTorch flavor, not a pickle
    loaded = ws.load_model("models:/toy-net/1")
    predicted = torch.as_tensor(np.asarray(loaded.predict(X)))
    assert torch.allclose(predicted.flatten(), single(X).detach().flatten(), atol=1e-5)


def test_bad_arguments_fail_before_ray_starts(ws: Workspace) -> None:
    import kiln

    with pytest.raises(InvalidArgumentError, match="executor 'process' is not accepted"):
        kiln.train.distributed(lambda c: None, executor="process")
    with pytest.raises(InvalidArgumentError, match="num_workers=0"):
        kiln.train.distributed(lambda c: None, num_workers=0)
    with pytest.raises(InvalidArgumentError, match="register_as needs model_fn"):
        kiln.train.distributed(lambda c: None, register_as="x")


def test_more_workers_than_cpus_is_refused(ray_local: None, ws: Workspace) -> None:
    import kiln

    with pytest.raises(InvalidArgumentError, match="needs 3 CPUs; this Ray has 2"):
        kiln.train.distributed(lambda c: None, num_workers=3)
    assert ws.search_run_objects() == []  # nothing was started
