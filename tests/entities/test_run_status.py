"""Every pair of statuses: allowed transitions pass, every other one raises."""

import itertools

import pytest

from modelyard.entities import ALLOWED_TRANSITIONS, RunStatus
from modelyard.errors import InvalidTransition

S = RunStatus
EXPECTED_ALLOWED = {
    (S.NOT_STARTED, S.QUEUED),
    (S.NOT_STARTED, S.RUNNING),
    (S.NOT_STARTED, S.CANCEL_REQUESTED),
    (S.NOT_STARTED, S.FAILED),
    (S.NOT_STARTED, S.CANCELED),
    (S.QUEUED, S.PREPARING),
    (S.QUEUED, S.RUNNING),
    (S.QUEUED, S.CANCEL_REQUESTED),
    (S.QUEUED, S.FAILED),
    (S.QUEUED, S.CANCELED),
    (S.PREPARING, S.RUNNING),
    (S.PREPARING, S.CANCEL_REQUESTED),
    (S.PREPARING, S.NOT_RESPONDING),
    (S.PREPARING, S.FAILED),
    (S.PREPARING, S.CANCELED),
    (S.RUNNING, S.FINALIZING),
    (S.RUNNING, S.COMPLETED),
    (S.RUNNING, S.CANCEL_REQUESTED),
    (S.RUNNING, S.NOT_RESPONDING),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.CANCELED),
    (S.FINALIZING, S.COMPLETED),
    (S.FINALIZING, S.NOT_RESPONDING),
    (S.FINALIZING, S.CANCEL_REQUESTED),
    (S.FINALIZING, S.FAILED),
    (S.FINALIZING, S.CANCELED),
    (S.CANCEL_REQUESTED, S.CANCELED),
    (S.CANCEL_REQUESTED, S.FAILED),
    (S.NOT_RESPONDING, S.RUNNING),
    (S.NOT_RESPONDING, S.FINALIZING),
    (S.NOT_RESPONDING, S.COMPLETED),
    (S.NOT_RESPONDING, S.CANCEL_REQUESTED),
    (S.NOT_RESPONDING, S.FAILED),
    (S.NOT_RESPONDING, S.CANCELED),
    # The scheduler's: admitted (Starting), a lost launch requeued, preemption and its requeue.
    (S.QUEUED, S.STARTING),
    (S.STARTING, S.QUEUED),
    (S.STARTING, S.PREPARING),
    (S.STARTING, S.RUNNING),
    (S.STARTING, S.CANCEL_REQUESTED),
    (S.STARTING, S.FAILED),
    (S.STARTING, S.CANCELED),
    (S.PREPARING, S.PREEMPTED),
    (S.RUNNING, S.PREEMPTED),
    (S.NOT_RESPONDING, S.PREEMPTED),
    (S.PREEMPTED, S.QUEUED),
    (S.PREEMPTED, S.COMPLETED),
    (S.PREEMPTED, S.CANCEL_REQUESTED),
    (S.PREEMPTED, S.FAILED),
    (S.PREEMPTED, S.CANCELED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_transition_is_allowed_or_refused(current: RunStatus, target: RunStatus) -> None:
    if (current, target) in EXPECTED_ALLOWED:
        assert current.can_become(target)
        current.check_transition(target, "run-1")
    else:
        assert not current.can_become(target)
        with pytest.raises(InvalidTransition) as caught:
            current.check_transition(target, "run-1")
        assert current.value in caught.value.message
        assert target.value in caught.value.message


def test_table_matches_the_specification() -> None:
    table = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert table == EXPECTED_ALLOWED


def test_terminal_states_have_no_way_out() -> None:
    for status in S:
        assert status.is_terminal == (status in {S.COMPLETED, S.FAILED, S.CANCELED})
        if status.is_terminal:
            assert not ALLOWED_TRANSITIONS[status]
