"""The one error body every refusal sends (`server/errors.py`), and the statuses each API
operation declares in the OpenAPI document.

Declared once, here: every operation may answer the statuses of `EVERY_OPERATION` (the request
guard's refusals, an unavailable store, a full disk); the operation's shape adds the ones its
parts can cause (`errors_by_shape`): parameters or a JSON body can be invalid (422), a path names
something that may not exist (404), a body can be too large, too slow or of the wrong type
(413, 408, 415). A route adds what its own work can refuse with `responses=error_responses(…)`:
a conflict (409), or a name in its body or query that is not found (404).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any, Final

from pydantic import BaseModel, Field, WithJsonSchema

from modelyard.errors import ERROR_CLASSES, HTTP_STATUS

ERROR_SCHEMA_NAME: Final = "Error"
ERROR_REF: Final = f"#/components/schemas/{ERROR_SCHEMA_NAME}"
VALIDATION_STATUS: Final = 422

ErrorCode = Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(ERROR_CLASSES)})]


class Error(BaseModel):
    """A refusal: what is wrong, the bad value and the fix in one line, and the values as data.
    The REST client rebuilds the same `ModelyardError` from it (`errors.ERROR_CLASSES`)."""

    code: ErrorCode = Field(description="the error's kind; it decides the HTTP status")
    message: str
    context: dict[str, Any] = Field(description="the values the message names, as data")


_WHY: Final[dict[int, str]] = {
    400: "Refused: a bad value, name or path, or a request line or Host the server refuses",
    401: "No API token, or one that is malformed, unknown, wrong or revoked",
    403: "The caller's role does not allow this, or a change sent from another site's page",
    404: "Not found: the run, experiment, compute, user or token named does not exist",
    408: "The request's body came too slowly",
    409: "Conflicts with the current state: it exists already, or the run or compute cannot"
    " make this change now",
    413: "The request's body is over the server's limit",
    415: "The request's body is not of a type this operation takes",
    422: "The parameters or the body do not fit the operation's schema",
    500: "A server error",
    501: "The server lacks an optional part this request needs",
    503: "The store or the compute is unavailable, or the database schema is out of date",
    507: "The server's disk refused the write: full, read-only, or not the server's to write",
}

EVERY_OPERATION: Final = (400, 401, 403, 503, 507)
INVALID_INPUT: Final = (VALIDATION_STATUS,)
PATH_NOT_FOUND: Final = (404,)
BODY_REFUSED: Final = (408, 413, 415)


def describe_status(status: int) -> str:
    """The status's meaning here, and the error codes that answer it."""
    codes = sorted(code for code, mapped in HTTP_STATUS.items() if mapped == status)
    if status == VALIDATION_STATUS:
        codes = sorted({*codes, "INVALID_VALUE"})  # a request that fails the schema
    why = _WHY.get(status, "Refused")
    return f"{why} ({', '.join(codes)})." if codes else f"{why}."


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's own refusals, for its decorator's `responses=`."""
    return {status: {"model": Error, "description": describe_status(status)} for status in statuses}


def errors_by_shape(operation: dict[str, Any]) -> set[int]:
    """The statuses an operation may answer because of what it takes."""
    statuses = set(EVERY_OPERATION)
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody", {}).get("content", {})
    if parameters or "application/json" in body:
        statuses.update(INVALID_INPUT)
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.update(PATH_NOT_FOUND)
    if body:
        statuses.update(BODY_REFUSED)
    return statuses


def declare_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation's error statuses (`errors_by_shape` and its own), each with the one
    error body. FastAPI's own 422 (`HTTPValidationError`) is replaced: this server answers a
    request that fails the schema with the same body as any refusal (`server/errors.py`)."""
    for operation in _operations(document):
        responses = operation.setdefault("responses", {})
        declared = {int(status) for status in responses if status.isdigit() and int(status) >= 400}
        for status in declared | errors_by_shape(operation):
            responses[str(status)] = _error_response(status, responses.get(str(status), {}))
        operation["responses"] = dict(sorted(responses.items()))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA_NAME] = Error.model_json_schema()
    if "#/components/schemas/HTTPValidationError" not in json.dumps(document.get("paths")):
        for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's, replaced above
            schemas.pop(name, None)
    return document


def _operations(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                yield operation


def _error_response(status: int, declared: dict[str, Any]) -> dict[str, Any]:
    description = declared.get("description")
    if status == VALIDATION_STATUS or not description or description == "Validation Error":
        description = describe_status(status)
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }
