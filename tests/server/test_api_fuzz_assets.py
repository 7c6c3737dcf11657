"""The REST API fuzzed (`api_fuzz_support.py`), its second half: every resource that
`test_api_fuzz_tracking.py` does not fuzz (data, components, pipelines, schedules, endpoints,
and any resource added later)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from schemathesis import BaseSchema

from server.api_fuzz_support import (
    Served,
    assert_the_server_still_answers,
    fuzz_every_operation,
    load_api_schema,
    operations_of,
    serve_seeded_workspace,
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_seeded_workspace(tmp_path_factory)


@pytest.fixture(scope="module")
def api_schema(served: Served) -> BaseSchema:
    return load_api_schema(served)


@pytest.mark.timeout(480)  # a hang guard: each request has its own timeout as well
def test_no_other_operation_answers_a_server_error_or_breaks_its_schema(
    api_schema: BaseSchema, served: Served
) -> None:
    operations = operations_of(api_schema, tracking=False)
    assert any("/published-pipelines" in operation.path for operation in operations)
    fuzz_every_operation(operations, served)


def test_the_server_still_answers_after_the_fuzzing(served: Served) -> None:
    assert_the_server_still_answers(served)
