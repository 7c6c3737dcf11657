"""Types the response models share: moments, numbers as they travel, the empty answer."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import Response
from pydantic import BaseModel, ConfigDict, TypeAdapter, WithJsonSchema

# Moments travel as the entities write them (`datetime.isoformat()`), passed through unchanged.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]

# A number passed through as it is: an int stays an int (`7`, not `7.0`).
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]

NON_FINITE_WORDS = ("NaN", "Infinity", "-Infinity")
# A logged value: strict JSON has no NaN or infinities, so they travel as the strings JavaScript
# prints (`entities.records.float_to_json`).
JsonFloat = Annotated[
    int | float | Literal["NaN", "Infinity", "-Infinity"],
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "enum": list(NON_FINITE_WORDS)}]}
    ),
]


class ResponseModel(BaseModel):
    """A JSON object the server answers: exactly these fields, every one always present."""

    model_config = ConfigDict(extra="forbid")


class Empty(ResponseModel):
    """`{}`: the request was done, there is nothing to answer."""


# Answers that scale with the runs they hold -------------------------------------------------------
# A route answering hundreds or thousands of runs (`GET /runs`, `GET /runs-query`) documents its
# model with `answers(Model)` and sends `prebuilt_json(…)`: validating every run on the way out
# costs about 7 µs a run (+10-25 % of a request for 1,000 to 10,000 runs, measured), so these
# answers are held to their schema by the tests instead (tests/server/test_openapi_complete.py).
_ANY_JSON: Final = TypeAdapter(Any)


def answers(model: Any, description: str = "Successful Response") -> dict[int | str, Any]:
    """A route's `responses=`: its 200 answer is `model`, documented and not validated."""
    return {200: {"model": model, "description": description}}


def prebuilt_json(content: Any) -> Response:
    """JSON as FastAPI writes it for `dict[str, Any]`, minus the response model's validation."""
    return Response(_ANY_JSON.dump_json(content), media_type="application/json")
