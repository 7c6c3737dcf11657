"""One error type with codes; each code maps to one HTTP status; errors survive the wire."""

from __future__ import annotations

import pytest

from modelyard import errors


@pytest.mark.parametrize("error_class", list(errors.ERROR_CLASSES.values()))
def test_every_error_round_trips_through_its_dict(error_class: type[errors.ModelyardError]) -> None:
    original = error_class("something is wrong: fix it", run_id="r1")
    rebuilt = errors.ModelyardError.from_dict(original.to_dict())
    assert type(rebuilt) is error_class
    assert rebuilt.message == original.message and rebuilt.context == {"run_id": "r1"}


def test_every_code_has_an_http_status() -> None:
    assert set(errors.HTTP_STATUS) == set(errors.ERROR_CLASSES)
    assert errors.http_status_for(errors.NotFound("x")) == 404
    assert errors.http_status_for(errors.InvalidName("x")) == 400
    assert errors.http_status_for(errors.InvalidTransition("x")) == 409
    assert errors.http_status_for(errors.AuthError("x")) == 401
    assert errors.http_status_for(errors.PermissionDenied("x")) == 403


def test_unknown_code_from_the_wire_is_still_a_modelyard_error() -> None:
    rebuilt = errors.ModelyardError.from_dict({"code": "FROM_THE_FUTURE", "message": "hm"})
    assert type(rebuilt) is errors.ModelyardError and rebuilt.message == "hm"
