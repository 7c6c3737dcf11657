"""How every refusal leaves the server: JSON `{"code", "message", "context"}`, one mapping.

The status is the code's row in `errors.HTTP_STATUS`, so the REST client rebuilds the same
`ModelyardError`; request validation errors are INVALID_VALUE with status 422, and a route may
choose a more precise status (413 for an upload over the limit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from modelyard.errors import InvalidValue, ModelyardError, NotFound, http_status_for
from modelyard.fileio import storage_error_for


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ModelyardError, _modelyard_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(OSError, _storage_error)  # type: ignore[arg-type]


def error_response(error: ModelyardError, status: int | None = None) -> JSONResponse:
    return JSONResponse(error.to_dict(), status_code=status or http_status_for(error))


async def _modelyard_error(_request: Request, error: ModelyardError) -> JSONResponse:
    return error_response(error)


async def _storage_error(request: Request, error: OSError) -> JSONResponse:
    """A full or read-only disk is 507 with what to do, like any refusal; other OSErrors are
    bugs and stay 500s."""
    refusal = storage_error_for(error, error.filename or "the server's workspace")
    if refusal is None:
        raise error
    return error_response(refusal)


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    return error_response(validation_refusal(error.errors()), status=422)


def validation_refusal(errors: Sequence[Any], what: str = "request") -> InvalidValue:
    """Pydantic's complaints about a request (or a document inside an upload) as one line."""
    problems = [_describe(item) for item in errors]
    message = f"{what} refused: {'; '.join(problems[:3])}; fix: send the fields the API expects"
    return InvalidValue(message, errors=problems)


async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own refusals (no such route, wrong method) in the same error format."""
    if error.status_code == 404:
        refusal: ModelyardError = NotFound(
            f"no API route {request.url.path!r}: see /docs for the routes", path=request.url.path
        )
    else:
        refusal = InvalidValue(
            f"{request.method} {request.url.path} refused: {error.detail}", path=request.url.path
        )
    response = error_response(refusal, status=error.status_code)
    response.headers.update(error.headers or {})  # a 405's Allow: the methods the path takes
    return response


def _describe(item: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
    return f"{where or 'body'}: {item.get('msg', 'invalid')}"
