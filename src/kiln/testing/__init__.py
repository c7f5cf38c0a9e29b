"""Conformance kits: subclass a suite and provide its fixture to check a backend.

>>> # in your tests:
>>> # class TestMyStore(MetadataStoreSuite):
>>> #     @pytest.fixture
>>> #     def store(self): return MyStore(...)

Every in-tree backend runs these suites; third-party backends should too.
"""

from __future__ import annotations

from kiln.testing.artifacts import ArtifactStoreSuite
from kiln.testing.audit import AuditStoreSuite
from kiln.testing.data import DataStoreSuite
from kiln.testing.features import FeatureRegistrySuite, OnlineStoreSuite
from kiln.testing.flavors import FlavorCase, FlavorSuite
from kiln.testing.metadata import MetadataStoreSuite
from kiln.testing.monitor_store import MonitoringStoreSuite
from kiln.testing.monitoring import StatTestSuite
from kiln.testing.pipelines import ExecutorSuite
from kiln.testing.serving import ServingStoreSuite
from kiln.testing.sweeps import SweepStoreSuite

__all__ = [
    "ArtifactStoreSuite",
    "AuditStoreSuite",
    "DataStoreSuite",
    "ExecutorSuite",
    "FeatureRegistrySuite",
    "FlavorCase",
    "FlavorSuite",
    "MetadataStoreSuite",
    "MonitoringStoreSuite",
    "OnlineStoreSuite",
    "ServingStoreSuite",
    "StatTestSuite",
    "SweepStoreSuite",
]
