"""Azure's early-termination policies, decided over recorded metric points."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelyard.entities import Run, RunStatus
from modelyard.entities.sweep import EarlyTermination, Goal, Objective, PolicyType
from modelyard.services.sweeps.policies import termination_reason
from modelyard.services.sweeps.trials import Trial

MAXIMIZE = Objective("accuracy", Goal.MAXIMIZE)
MINIMIZE = Objective("loss", Goal.MINIMIZE)


def trial(number: int, *values: float, status: RunStatus = RunStatus.RUNNING) -> Trial:
    run = Run(
        id=f"run{number}",
        experiment_id="e",
        experiment_name="e",
        number=number,
        display_name=f"t{number}",
        status=status,
        created_at=datetime.now(UTC),
        user="u",
    )
    return Trial(number, run, {}, tuple(values), ("accuracy",))


def bandit(**fields: float) -> EarlyTermination:
    return EarlyTermination(PolicyType.BANDIT, **fields).check()  # type: ignore[arg-type]


def test_bandit_cancels_a_trial_outside_the_slack_of_the_best() -> None:
    best = trial(0, 0.5, 0.8, status=RunStatus.COMPLETED)
    close, far = trial(1, 0.5, 0.75), trial(2, 0.3, 0.7)
    policy = bandit(slack_factor=0.1)  # keep what is within 0.8 / 1.1 = 0.727
    trials = [best, close, far]
    assert termination_reason(policy, MAXIMIZE, close, trials) is None
    reason = termination_reason(policy, MAXIMIZE, far, trials)
    assert reason == (
        "early termination (bandit policy): accuracy 0.7 by interval 2 is below 0.727273, the"
        " best trial's 0.8 / (1 + slack_factor 0.1)"
    )


def test_bandit_compares_at_the_trials_own_interval_and_waits_for_the_delay() -> None:
    fast = trial(0, 0.9, 0.9, 0.9, 0.9)
    slow = trial(1, 0.1)
    policy = bandit(slack_amount=0.2, delay_evaluation=2)
    assert termination_reason(policy, MAXIMIZE, slow, [fast, slow]) is None  # 1 point < delay
    slow = trial(1, 0.1, 0.65)
    reason = termination_reason(policy, MAXIMIZE, slow, [fast, slow])
    assert reason is not None and "0.65 by interval 2 is below 0.7" in reason
    assert "- slack_amount 0.2" in reason


def test_bandit_judges_a_long_trial_against_a_short_one_that_completed() -> None:
    """The driver may first look at a long bad trial after its early intervals: a short trial
    that completed still counts, with its best of all its points."""
    short = trial(0, 0.3, 0.6, 1.0, status=RunStatus.COMPLETED)
    long_bad = trial(1, *[-0.2] * 40)
    reason = termination_reason(bandit(slack_factor=0.1), MAXIMIZE, long_bad, [short, long_bad])
    assert reason is not None and "-0.2 by interval 40 is below 0.909091" in reason
    still_running = trial(0, 0.3, 0.6, 1.0)  # it may yet reach interval 40: not counted so
    assert (
        termination_reason(bandit(slack_factor=0.1), MAXIMIZE, long_bad, [still_running, long_bad])
        is None
    )


def test_bandit_when_minimizing_cancels_what_is_above_the_slack() -> None:
    best, bad = trial(0, 1.0), trial(1, 1.5)
    policy = bandit(slack_factor=0.2)
    reason = termination_reason(policy, MINIMIZE, bad, [best, bad])
    assert reason is not None and "loss 1.5 by interval 1 is above 1.2" in reason
    assert termination_reason(policy, MINIMIZE, best, [best, bad]) is None


def test_a_trial_alone_at_its_interval_is_not_judged() -> None:
    only = trial(0, 0.1, 0.1)
    assert termination_reason(bandit(slack_factor=0.1), MAXIMIZE, only, [only]) is None


def test_median_stopping_cancels_a_best_below_the_median_of_running_averages() -> None:
    policy = EarlyTermination(PolicyType.MEDIAN_STOPPING).check()
    peers = [trial(0, 0.6, 0.8), trial(1, 0.5, 0.7), trial(2, 0.9, 0.9)]  # averages .7 .6 .9
    low, fine = trial(3, 0.5, 0.65), trial(4, 0.4, 0.75)
    reason = termination_reason(policy, MAXIMIZE, low, [*peers, low])
    assert reason is not None and "0.65 by interval 2 is worse than 0.7, the median of 3" in reason
    assert termination_reason(policy, MAXIMIZE, fine, [*peers, fine]) is None


@pytest.mark.parametrize(("percentage", "cut"), [(25, 1), (50, 2), (20, 0)])
def test_truncation_selection_cancels_the_worst_share(percentage: int, cut: int) -> None:
    policy = EarlyTermination(
        PolicyType.TRUNCATION_SELECTION, truncation_percentage=percentage
    ).check()
    trials = [trial(n, value) for n, value in enumerate([0.9, 0.7, 0.5, 0.3])]
    canceled = [t.number for t in trials if termination_reason(policy, MAXIMIZE, t, trials)]
    assert sorted(canceled) == sorted([3, 2][:cut])


def test_truncation_leaves_ended_trials_out_when_asked_and_gives_ties_the_benefit() -> None:
    policy = EarlyTermination(
        PolicyType.TRUNCATION_SELECTION, truncation_percentage=50, exclude_finished_jobs=True
    ).check()
    ended = [trial(n, 0.9, status=RunStatus.COMPLETED) for n in range(4)]
    tied = [trial(4, 0.5), trial(5, 0.5)]
    for candidate in tied:
        # Against the running trials only (2, cut 1), and the tie goes to the trial.
        assert termination_reason(policy, MAXIMIZE, candidate, [*ended, *tied]) is None
