"""The REST API fuzzed (`api_fuzz_support.py`), its first half: runs, experiments, jobs,
computes, users and tokens, models; the rest is fuzzed in `test_api_fuzz_assets.py`."""

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
def test_no_tracking_operation_answers_a_server_error_or_breaks_its_schema(
    api_schema: BaseSchema, served: Served
) -> None:
    operations = operations_of(api_schema, tracking=True)
    assert any(operation.path.endswith("/runs/{run_id}") for operation in operations)
    fuzz_every_operation(operations, served)


def test_the_server_still_answers_after_the_fuzzing(served: Served) -> None:
    assert_the_server_still_answers(served)
