"""Packaging a deployment for scale: a container build context pinned to the packages the
models were trained with, and Kubernetes manifests (Deployment, Service, HPA, probes)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.serving.client import ServingClient

# What the server itself needs besides the model's own packages.
SERVER_PACKAGES = ("starlette", "uvicorn", "prometheus-client", "pyarrow", "sqlalchemy",
                   "alembic", "psycopg[binary]")


def recorded_packages(ws: ServingClient, name: str) -> tuple[dict[str, str], str | None]:
    """Package versions (and the Python version) recorded by the runs that produced the
    deployment's models; the first route wins where they disagree."""
    from kiln.registry.client import RegistryClient

    assert isinstance(ws, RegistryClient)
    dep = ws.get_deployment(name)
    packages: dict[str, str] = {}
    python: str | None = None
    for route in (*dep.routes, *dep.shadows):
        mv = ws.get_model_version(route.model, ws.resolve_route(route))
        if mv.run_id is None:
            continue
        tags = ws.store.get_run(mv.run_id).tags
        for pkg, version in json.loads(tags.get("kiln.packages", "{}")).items():
            packages.setdefault(pkg, version)
        python = python or tags.get("kiln.python")
    if not packages:  # models registered outside a run: pin what runs here
        from kiln.tracking.environment import _packages

        packages = json.loads(_packages())
    return packages, python


def package_deployment(ws: ServingClient, name: str, output: Path, *, port: int = 8080,
                       replicas: int = 2, image: str | None = None) -> list[Path]:
    """Write ``Dockerfile``, ``requirements.txt``, ``README.md`` and ``k8s/*.yaml``."""
    import yaml

    packages, python = recorded_packages(ws, name)
    kiln_version = packages.pop("kiln", None)
    output.mkdir(parents=True, exist_ok=True)
    (output / "k8s").mkdir(exist_ok=True)
    slug = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-")[:50] or "model"
    image = image or f"kiln-{slug}:latest"
    py_minor = ".".join((python or "3.11").split(".")[:2])
    requirements = [f"{pkg}=={ver}" for pkg, ver in sorted(packages.items())]
    requirements += [p for p in SERVER_PACKAGES if p.split("[")[0] not in packages]
    kiln_req = f"kiln[serving]=={kiln_version}" if kiln_version else "kiln[serving]"
    files: dict[str, str] = {
        "requirements.txt": "\n".join([kiln_req, *requirements]) + "\n",
        "Dockerfile": _dockerfile(py_minor, name, port),
        "README.md": _readme(name, image),
    }
    manifests = {
        "k8s/deployment.yaml": _deployment(slug, name, image, port, replicas),
        "k8s/service.yaml": _service(slug, port),
        "k8s/hpa.yaml": _hpa(slug, replicas),
    }
    written = []
    for rel, text in files.items():
        (output / rel).write_text(text)
        written.append(output / rel)
    for rel, doc in manifests.items():
        (output / rel).write_text(yaml.safe_dump(doc, sort_keys=False))
        written.append(output / rel)
    return written


def _dockerfile(py_minor: str, name: str, port: int) -> str:
    return f"""\
# Built by `kiln deploy package {name}`: Python and packages pinned to the training runs.
FROM python:{py_minor}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
RUN useradd --create-home kiln
USER kiln
# The server is stateless: models come from the registry named by KILN_DB_URL and
# KILN_ARTIFACTS_URL (set them at run time), and it follows alias moves by itself.
EXPOSE {port}
CMD ["kiln", "serve", "{name}", "--host", "0.0.0.0", "--port", "{port}", "--workers", "1"]
"""


def _readme(name: str, image: str) -> str:
    return f"""\
# Deployment `{name}`

    docker build -t {image} .
    kubectl create secret generic {image.split(':')[0]}-store \\
        --from-literal=KILN_DB_URL=postgresql+psycopg://... --from-literal=KILN_ARTIFACTS_URL=s3://...
    kubectl apply -f k8s/
"""


def _labels(slug: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": f"kiln-{slug}", "app.kubernetes.io/part-of": "kiln"}


def _probe(path: str, port: int, initial: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, "initialDelaySeconds": initial,
            "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 3}


def _deployment(slug: str, name: str, image: str, port: int, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"kiln-{slug}", "labels": _labels(slug)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": _labels(slug)},
            "template": {
                "metadata": {"labels": _labels(slug), "annotations": {
                    "prometheus.io/scrape": "true", "prometheus.io/port": str(port),
                    "prometheus.io/path": "/metrics"}},
                "spec": {
                    "terminationGracePeriodSeconds": 45,
                    "containers": [{
                        "name": "server",
                        "image": image,
                        "args": ["kiln", "serve", name, "--host", "0.0.0.0", "--port", str(port)],
                        "ports": [{"name": "http", "containerPort": port}],
                        "envFrom": [{"secretRef": {"name": f"kiln-{slug}-store"}}],
                        "resources": {"requests": {"cpu": "500m", "memory": "256Mi"},
                                      "limits": {"cpu": "2", "memory": "1Gi"}},
                        "readinessProbe": _probe("/v2/health/ready", port, 2),
                        "livenessProbe": _probe("/v2/health/live", port, 10),
                        "startupProbe": {**_probe("/v2/health/ready", port, 0),
                                         "failureThreshold": 60},
                    }],
                },
            },
        },
    }


def _service(slug: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"kiln-{slug}", "labels": _labels(slug)},
        "spec": {"selector": _labels(slug),
                 "ports": [{"name": "http", "port": 80, "targetPort": port}]},
    }


def _hpa(slug: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": f"kiln-{slug}", "labels": _labels(slug)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                               "name": f"kiln-{slug}"},
            "minReplicas": replicas,
            "maxReplicas": max(replicas * 5, replicas + 1),
            "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
        },
    }
