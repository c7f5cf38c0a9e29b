"""The server's OpenAPI 3 description (served at ``/openapi.json``)."""

from __future__ import annotations

from typing import Any

_ERROR = {"description": "error", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}


def _post(summary: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"post": {
        "summary": summary,
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {"200": {"description": "predictions"}, "400": _ERROR, "413": _ERROR,
                      "415": _ERROR, "422": _ERROR, "500": _ERROR, "503": _ERROR},
    }}


def _get(summary: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": {"description": "ok"}}}}


def openapi_spec(deployment: str) -> dict[str, Any]:
    """The spec for a server of ``deployment``."""
    value = {"oneOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"},
                       {"type": "null"}]}
    records = {"type": "array", "items": {"type": "object", "additionalProperties": value}}
    columns = {"type": "object", "additionalProperties": {"type": "array", "items": value}}
    tensor = {"type": "object", "required": ["name", "shape", "datatype", "data"], "properties": {
        "name": {"type": "string"}, "shape": {"type": "array", "items": {"type": "integer"}},
        "datatype": {"type": "string"}, "data": {"type": "array"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"kiln model server: {deployment}", "version": "1"},
        "paths": {
            "/v2/health/live": _get("Liveness"),
            "/v2/health/ready": _get("Readiness: models loaded"),
            "/v2/models/{name}": {"get": {
                "summary": "Model metadata (Open Inference Protocol v2)",
                "parameters": [{"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "metadata"}, "404": _ERROR}}},
            "/v2/models/{name}/infer": {"post": {
                **_post("Inference (Open Inference Protocol v2)", {
                    "type": "object", "required": ["inputs"], "properties": {
                        "id": {"type": "string"},
                        "inputs": {"type": "array", "items": tensor}}})["post"],
                "parameters": [{"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string"}}]}},
            "/predict": _post("Predict from records or columns", {
                "type": "object", "properties": {"records": records, "columns": columns}}),
            "/invocations": _post("MLflow scoring protocol", {
                "type": "object", "properties": {
                    "dataframe_split": {"type": "object", "properties": {
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "data": {"type": "array", "items": {"type": "array", "items": value}}}},
                    "dataframe_records": records,
                    "instances": {"type": "array"},
                    "inputs": {}}}),
            "/feedback": _post("Ground truth for logged requests", {
                "type": "object", "properties": {
                    "request_id": {"type": "string"}, "label": {},
                    "items": {"type": "array", "items": {"type": "object"}}}}),
            "/metrics": _get("Prometheus metrics"),
        },
        "components": {"schemas": {"Error": {"type": "object", "properties": {"error": {
            "type": "object", "properties": {"type": {"type": "string"},
                                             "message": {"type": "string"},
                                             "field": {"type": "string"}}}}}}},
    }
