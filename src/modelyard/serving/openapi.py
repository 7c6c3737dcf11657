"""The replica's OpenAPI document (`GET /swagger.json`), with the model's real schema.

For the no-code image scorer the document names the inputs it takes and the ModelOutput it
answers, labels included; for an entry script, whose run() takes and returns what its author
chose, the body and the answer are any JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from modelyard._version import __version__

OPENAPI_VERSION: Final = "3.0.3"
_BINARY: Final = {"type": "string", "format": "binary"}
_REF = "#/components/schemas/"


def image_scorer_document(labels: list[str]) -> dict[str, Any]:
    schemas = {
        "ModelInput": {
            "type": "object",
            "required": ["ImageSource"],
            "properties": {
                "ImageSource": {
                    "type": "string",
                    "format": "byte",
                    "description": "The image file's bytes, base64 (a data: URI also works)",
                }
            },
        },
        "ModelOutput": _model_output(labels),
        "Error": _error_schema(),
    }
    request = {
        "required": True,
        "content": {
            "image/*": {"schema": _BINARY},
            "application/octet-stream": {"schema": _BINARY},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": _BINARY}},
                "encoding": {"file": {"contentType": "image/*"}},
            },
            "application/json": {"schema": _json_input()},
        },
    }
    answer = {"oneOf": [_ref("ModelOutput"), {"type": "array", "items": _ref("ModelOutput")}]}
    description = (
        'Classify one image (image bytes, one multipart file, or {"ImageSource": base64}) '
        'or a batch (several files, a list, or {"data": [...]}): one ModelOutput per image.'
    )
    return _document(description, request, answer, schemas)


def script_document(entry_script: Path | None) -> dict[str, Any]:
    request = {
        "required": True,
        "content": {"application/json": {"schema": {}}, "*/*": {"schema": _BINARY}},
    }
    script = entry_script.name if entry_script else "the entry script"
    description = (
        f"The body is passed to run(raw_data) of {script} (as text when UTF-8); its "
        "JSON-serialisable answer is returned."
    )
    return _document(description, request, {}, {"Error": _error_schema()})


def _model_output(labels: list[str]) -> dict[str, Any]:
    probability = {"type": "number", "minimum": 0, "maximum": 1}
    prediction: dict[str, Any] = {"type": "string", "description": "The most probable label"}
    if labels:
        prediction["enum"] = list(labels)
    return {
        "type": "object",
        "required": ["Prediction", "Score"],
        "properties": {
            "Prediction": prediction,
            "Score": {
                "type": "object",
                "description": "Every label's probability (they sum to 1)",
                "properties": {label: probability for label in labels},
                "additionalProperties": probability,
            },
        },
    }


def _json_input() -> dict[str, Any]:
    batch = {"type": "array", "items": _ref("ModelInput"), "minItems": 1}
    return {
        "oneOf": [
            _ref("ModelInput"),
            batch,
            {"type": "object", "required": ["data"], "properties": {"data": batch}},
        ]
    }


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["code", "message", "request_id"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "context": {"type": "object"},
            "request_id": {"type": "string"},
        },
    }


def _document(
    description: str, request: dict[str, Any], answer: dict[str, Any], schemas: dict[str, Any]
) -> dict[str, Any]:
    errors = {
        "400": "Bad input (malformed JSON, not an image, empty body)",
        "401": "No key, or not a current key",
        "413": "The body is over the replica's size limit",
        "415": "A Content-Type the scorer does not take",
        "500": "The scorer failed; the request id finds the traceback in the replica's log",
        "503": "The replica is still initialising",
    }
    responses: dict[str, Any] = {
        "200": {"description": "Scored", "content": {"application/json": {"schema": answer}}}
    }
    for status, text in errors.items():
        responses[status] = {
            "description": text,
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Modelyard scoring replica", "version": __version__},
        "paths": {
            "/score": {
                "post": {
                    "summary": "Score",
                    "description": description,
                    "operationId": "score",
                    "security": [{"bearer": []}],
                    "requestBody": request,
                    "responses": responses,
                }
            },
            "/": _probe("Liveness: answers Healthy while the process serves", "text/plain"),
            "/health/ready": _probe("Readiness: 200 once init() finished, else 503"),
            "/metrics": _probe("Prometheus metrics (text format 0.0.4)", "text/plain"),
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _probe(summary: str, media_type: str = "application/json") -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "responses": {"200": {"description": "OK", "content": {media_type: {}}}},
        }
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}
