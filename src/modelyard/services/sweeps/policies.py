"""Azure's early-termination policies, decided over the metric points the trials recorded.

Optuna's pruners do not map one to one onto Azure's policies (its median pruner compares
intermediate values step by step, it has no bandit slack, and its percentile pruner keeps
rather than truncates), so the three are written here after Azure's descriptions; each is a
few comparisons. An interval is one point of the primary metric (Azure: "each time the
training script logs the primary metric counts as one interval"); a trial is judged at the
latest interval its policy evaluates (`EarlyTermination.evaluated_interval`), against every
other trial that reached that interval, running or ended.

- bandit: cancel a trial whose best value up to the interval is outside the slack of the best
  trial's best there (a trial that completed before the interval: its best of all):
  below best / (1 + slack_factor) or best - slack_amount when maximizing (above
  best * (1 + slack_factor) or best + slack_amount when minimizing);
- median stopping: cancel a trial whose best value is worse than the median of the other
  trials' running averages up to the interval;
- truncation selection: cancel a trial whose value at the interval is among the worst
  `truncation_percentage` percent of the trials' values there (ended trials left out with
  `exclude_finished_jobs`); ties are the trial's benefit.

Each decision is the reason the trial ends Canceled with, in one line; None keeps it running.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from modelyard.entities.run_status import RunStatus
from modelyard.entities.sweep import EarlyTermination, Goal, Objective, PolicyType
from modelyard.services.sweeps.trials import Trial


def termination_reason(
    policy: EarlyTermination, objective: Objective, trial: Trial, trials: Sequence[Trial]
) -> str | None:
    interval = policy.evaluated_interval(len(trial.values))
    if interval is None:
        return None
    peers = [other for other in trials if other.number != trial.number]
    if policy.type is PolicyType.BANDIT:
        return _bandit(policy, objective, trial, peers, interval)
    if policy.type is PolicyType.MEDIAN_STOPPING:
        return _median_stopping(objective, trial, peers, interval)
    return _truncation_selection(policy, objective, trial, peers, interval)


def _bandit(
    policy: EarlyTermination,
    objective: Objective,
    trial: Trial,
    peers: Sequence[Trial],
    interval: int,
) -> str | None:
    own = _best_until(objective, trial, interval)
    reached = [_best_until(objective, peer, interval) for peer in _reaching(peers, interval)]
    # A trial that completed short of this interval is the best it will ever be: it counts
    # with all its points (Azure's "best performing run"), or a short good trial would shield
    # a long bad one once the bad one's first intervals went by between two of the driver's looks.
    reached += [
        objective.best(list(peer.values))
        for peer in peers
        if peer.run.status is RunStatus.COMPLETED and 0 < len(peer.values) < interval
    ]
    if not reached:
        return None
    best = objective.best([own, *reached])
    limit, rule = _bandit_limit(policy, objective.goal, best)
    if not objective.is_better(limit, own):
        return None
    word = "below" if objective.goal is Goal.MAXIMIZE else "above"
    return (
        f"early termination (bandit policy): {objective.primary_metric} {own:.6g} by interval"
        f" {interval} is {word} {limit:.6g}, the best trial's {best:.6g} {rule}"
    )


def _bandit_limit(policy: EarlyTermination, goal: Goal, best: float) -> tuple[float, str]:
    maximizing = goal is Goal.MAXIMIZE
    if policy.slack_factor is not None:
        factor = 1 + policy.slack_factor
        rule = f"{'/' if maximizing else '*'} (1 + slack_factor {policy.slack_factor:g})"
        return (best / factor if maximizing else best * factor), rule
    assert policy.slack_amount is not None
    rule = f"{'-' if maximizing else '+'} slack_amount {policy.slack_amount:g}"
    return (best - policy.slack_amount if maximizing else best + policy.slack_amount), rule


def _median_stopping(
    objective: Objective, trial: Trial, peers: Sequence[Trial], interval: int
) -> str | None:
    averages = [statistics.fmean(peer.values[:interval]) for peer in _reaching(peers, interval)]
    averages = [value for value in averages if not math.isnan(value)]
    if not averages:
        return None
    median = statistics.median(averages)
    own = _best_until(objective, trial, interval)
    if not objective.is_better(median, own):
        return None
    return (
        f"early termination (median stopping policy): {objective.primary_metric} {own:.6g} by"
        f" interval {interval} is worse than {median:.6g}, the median of {len(averages)} other"
        " trials' running averages"
    )


def _truncation_selection(
    policy: EarlyTermination,
    objective: Objective,
    trial: Trial,
    peers: Sequence[Trial],
    interval: int,
) -> str | None:
    compared = [
        peer
        for peer in _reaching(peers, interval)
        if not (policy.exclude_finished_jobs and not peer.is_active)
    ]
    assert policy.truncation_percentage is not None
    cut = math.floor((len(compared) + 1) * policy.truncation_percentage / 100)
    own = trial.values[interval - 1]
    worse_or_equal = sum(
        1 for peer in compared if not objective.is_better(peer.values[interval - 1], own)
    )
    # The trial's place from the worst end (1: the worst), the peers it ties counted below it.
    place_from_worst = 1 + worse_or_equal
    if cut == 0 or place_from_worst > cut:
        return None
    return (
        f"early termination (truncation selection policy): {objective.primary_metric} {own:.6g}"
        f" at interval {interval} is among the worst {policy.truncation_percentage}% of"
        f" {len(compared) + 1} trials there"
    )


def _reaching(trials: Sequence[Trial], interval: int) -> list[Trial]:
    return [trial for trial in trials if len(trial.values) >= interval]


def _best_until(objective: Objective, trial: Trial, interval: int) -> float:
    return objective.best(list(trial.values[:interval]))
