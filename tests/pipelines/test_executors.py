"""The executor conformance suite on the three in-tree executors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiln.pipelines.executors import get_executor
from kiln.pipelines.executors.base import Executor
from kiln.testing import ExecutorSuite


class TestLocalExecutor(ExecutorSuite):
    @pytest.fixture
    def executor(self) -> Executor:
        return get_executor("local")


class TestProcessExecutor(ExecutorSuite):
    @pytest.fixture
    def executor(self) -> Executor:
        return get_executor("process", max_workers=2)


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


class TestRayExecutor(ExecutorSuite):
    @pytest.fixture
    def executor(self, ray_instance: None) -> Executor:
        return get_executor("ray")
