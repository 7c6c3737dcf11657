"""One error type for everything Modelyard refuses, with a machine-readable code.

The tree::

    ModelyardError                 code            HTTP
    ├── InvalidValue               INVALID_VALUE   400
    │   ├── InvalidName            INVALID_NAME    400
    │   ├── UnsafePath             UNSAFE_PATH     400
    │   ├── LimitExceeded          LIMIT_EXCEEDED  400
    │   │   └── BodyTooLarge       BODY_TOO_LARGE  413
    │   └── UnsupportedMediaType   UNSUPPORTED_MEDIA_TYPE 415
    ├── RequestTimeout             REQUEST_TIMEOUT 408
    ├── NotFound                   NOT_FOUND       404
    ├── AlreadyExists              ALREADY_EXISTS  409
    │   └── ComputeErrored         COMPUTE_ERRORED 409 (a Failed compute holds the name)
    ├── Conflict                   CONFLICT        409
    ├── InvalidTransition          INVALID_TRANSITION 409
    │   └── RunEnded               RUN_ENDED       409 (a write to a Completed/Failed/Canceled run)
    ├── AuthError                  AUTH_FAILED     401
    ├── PermissionDenied           PERMISSION_DENIED 403
    ├── SchemaOutOfDate            SCHEMA_OUT_OF_DATE 503
    ├── StoreUnavailable           STORE_UNAVAILABLE  503
    ├── ComputeUnavailable         COMPUTE_UNAVAILABLE 503 (a host or cluster that lacks or
    │                                                  does not answer)
    ├── NotReady                   NOT_READY       503 (a scoring replica still in init())
    ├── StorageError               STORAGE_ERROR   507 (disk full, read-only, no permission)
    ├── GuardrailFailed            GUARDRAIL_FAILED 422
    ├── EnvironmentBuildFailed     ENVIRONMENT_BUILD_FAILED 500
    ├── JobFailed                  JOB_FAILED      500
    ├── DeploymentFailed           DEPLOYMENT_FAILED 422
    └── MissingExtra               MISSING_EXTRA   501 (also an ImportError)

Every message names the problem, the bad value and the fix, in one line. `context` carries the
values as data so the REST layer can send them and a client can rebuild the same exception.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ModelyardError(Exception):
    """Base of every error Modelyard raises on purpose."""

    code: ClassVar[str] = "MODELYARD_ERROR"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "context": self.context}

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> ModelyardError:
        error_class = ERROR_CLASSES.get(str(payload.get("code")), ModelyardError)
        return error_class(str(payload.get("message", "")), **dict(payload.get("context") or {}))


class InvalidValue(ModelyardError):
    code = "INVALID_VALUE"


class InvalidName(InvalidValue):
    code = "INVALID_NAME"


class UnsafePath(InvalidValue):
    code = "UNSAFE_PATH"


class LimitExceeded(InvalidValue):
    code = "LIMIT_EXCEEDED"


class BodyTooLarge(LimitExceeded):
    """A request body over the server's limit for its kind (JSON, form or upload)."""

    code = "BODY_TOO_LARGE"


class UnsupportedMediaType(InvalidValue):
    code = "UNSUPPORTED_MEDIA_TYPE"


class RequestTimeout(ModelyardError):
    """A client too slow to send its request within the server's time limits."""

    code = "REQUEST_TIMEOUT"


class NotFound(ModelyardError):
    code = "NOT_FOUND"


class AlreadyExists(ModelyardError):
    code = "ALREADY_EXISTS"


class ComputeErrored(AlreadyExists):
    """A compute whose provisioning failed keeps its name (and its errors) until deleted."""

    code = "COMPUTE_ERRORED"


class Conflict(ModelyardError):
    code = "CONFLICT"


class InvalidTransition(ModelyardError):
    code = "INVALID_TRANSITION"


class RunEnded(InvalidTransition):
    """Metrics, params, properties, artifacts or a heartbeat for a run that has already ended."""

    code = "RUN_ENDED"


class AuthError(ModelyardError):
    """The caller could not be identified: no token, a malformed, unknown, wrong or revoked one."""

    code = "AUTH_FAILED"


class PermissionDenied(ModelyardError):
    """The caller is known but their role does not allow the action."""

    code = "PERMISSION_DENIED"


class SchemaOutOfDate(ModelyardError):
    code = "SCHEMA_OUT_OF_DATE"


class StoreUnavailable(ModelyardError):
    code = "STORE_UNAVAILABLE"


class ComputeUnavailable(ModelyardError):
    """A compute's host or cluster lacks what its size needs, or does not answer."""

    code = "COMPUTE_UNAVAILABLE"


class NotReady(ModelyardError):
    """A scoring replica that has not finished its model's init() (or whose init() failed)."""

    code = "NOT_READY"


class StorageError(ModelyardError):
    """The disk said no: full, read-only, or not ours to write. Nothing was half-written."""

    code = "STORAGE_ERROR"


class GuardrailFailed(ModelyardError):
    """The training data breaks a rule checked before any training (see guardrails.json)."""

    code = "GUARDRAIL_FAILED"


class EnvironmentBuildFailed(ModelyardError):
    code = "ENVIRONMENT_BUILD_FAILED"


class JobFailed(ModelyardError):
    code = "JOB_FAILED"


class DeploymentFailed(ModelyardError):
    """A deployment's preflight (init() and a sample request) or its replicas failed: the
    message carries the script's own traceback."""

    code = "DEPLOYMENT_FAILED"


class MissingExtra(ModelyardError, ImportError):
    """A feature needs an optional part of Modelyard (a pip extra) that is not installed.

    Raised by `modelyard.extras.require_extra`, also on import of a module that needs the
    extra: being an ImportError too, code that guards an optional import still catches it.
    """

    code = "MISSING_EXTRA"


ERROR_CLASSES: dict[str, type[ModelyardError]] = {
    error_class.code: error_class
    for error_class in (
        ModelyardError,
        InvalidValue,
        InvalidName,
        UnsafePath,
        LimitExceeded,
        BodyTooLarge,
        UnsupportedMediaType,
        RequestTimeout,
        NotFound,
        AlreadyExists,
        ComputeErrored,
        Conflict,
        InvalidTransition,
        RunEnded,
        AuthError,
        PermissionDenied,
        SchemaOutOfDate,
        StoreUnavailable,
        ComputeUnavailable,
        NotReady,
        StorageError,
        GuardrailFailed,
        EnvironmentBuildFailed,
        JobFailed,
        DeploymentFailed,
        MissingExtra,
    )
}

HTTP_STATUS: dict[str, int] = {
    ModelyardError.code: 500,
    InvalidValue.code: 400,
    InvalidName.code: 400,
    UnsafePath.code: 400,
    LimitExceeded.code: 400,
    BodyTooLarge.code: 413,
    UnsupportedMediaType.code: 415,
    RequestTimeout.code: 408,
    NotFound.code: 404,
    AlreadyExists.code: 409,
    ComputeErrored.code: 409,
    Conflict.code: 409,
    InvalidTransition.code: 409,
    RunEnded.code: 409,
    AuthError.code: 401,
    PermissionDenied.code: 403,
    SchemaOutOfDate.code: 503,
    StoreUnavailable.code: 503,
    ComputeUnavailable.code: 503,
    NotReady.code: 503,
    StorageError.code: 507,
    GuardrailFailed.code: 422,
    EnvironmentBuildFailed.code: 500,
    JobFailed.code: 500,
    DeploymentFailed.code: 422,  # the user's script or model is at fault
    MissingExtra.code: 501,  # the server lacks what the request needs
}


def http_status_for(error: ModelyardError) -> int:
    return HTTP_STATUS.get(error.code, 500)
