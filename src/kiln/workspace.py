"""The Workspace: the explicit client over a metadata store and an artifact store.

>>> import kiln
>>> ws = kiln.Workspace.ephemeral()
>>> run = ws.create_run("churn", name="baseline")
>>> ws.log_batch(run.run_id, metrics={"auc": 0.91}, params={"C": 1.0})
>>> ws.end_run(run.run_id)
>>> ws.search_runs("churn", filter="metrics.auc > 0.9")["params.C"].tolist()
['1.0']
>>> ws.close()
"""

from __future__ import annotations

from kiln.data.client import DataClient
from kiln.features.client import FeaturesClient
from kiln.governance.client import GovernanceClient
from kiln.monitoring.client import MonitoringClient
from kiln.registry.client import RegistryClient
from kiln.serving.client import ServingClient
from kiln.tracking.client import TrackingClient


class Workspace(
    TrackingClient, RegistryClient, DataClient, FeaturesClient, ServingClient, GovernanceClient,
    MonitoringClient,
):
    """Stores named by ``db_url`` and ``artifacts_url`` (default: ``KILN_*`` settings).

    The subsystems' methods are mixed in from ``kiln.tracking.client`` and
    ``kiln.registry.client`` and ``kiln.data.client``; later subsystems add theirs the same way.
    """


__all__ = ["Workspace"]
