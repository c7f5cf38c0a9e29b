"""Serving: deployments with weighted, sticky, canary and shadow routes; the model server;
prediction logging; batch inference; packaging for containers and Kubernetes.

Heavy parts (Starlette, uvicorn, pyarrow, prometheus-client) are imported only by the
modules that need them: ``pip install 'kiln[serving]'``.
"""

from __future__ import annotations
