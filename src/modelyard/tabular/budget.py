"""How a run spends its time budget: the searches end early enough for the steps after them.

The trainer's clock starts with the job (the guardrails and featurization are inside the
budget). Before each family's search, the steps still to come after all the searches are
estimated (`reserve_s`) and the family gets an equal share of what is left before them. The
families are searched quickest first (the fewest hyperparameters: their searches converge in
seconds), so the share a family leaves unused is split among the families after it instead of
going unused at the end.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from modelyard.tabular.config import MIN_SECONDS_PER_FAMILY
from modelyard.tabular.search import FamilyResult
from modelyard.tabular.selection import hyperparameters

# What follows the searches and does not grow with the table or the model: the starter code
# run once in a clean interpreter (~0.6 s), then outside the trainer the job's exit, its
# outputs published and the run's end recorded (~1.2-1.8 s), the waiting side noticing it
# (~0.3 s), and the run's start before this process (~0.5 s): the run's wall time, submit to
# completion, is what should land on the budget (2.0-3.6 s at 60 s, load 1.5-5).
FINAL_FIXED_S: Final = 2.5
# The ONNX converters' import, the conversion of a forest or a booster and the parity check
# (0.5-2.4 s at 60 s on iris, breast_cancer and digits, load 1.5-5).
EXPORT_S: Final = 1.5
IMPORTANCE_SHARE: Final = 0.02  # of the budget, for permutation importance at most


def search_order(families: Mapping[str, str]) -> list[str]:
    """The families, quickest search first (ties in the order given)."""
    return sorted(families, key=lambda family: hyperparameters([family]))


@dataclass(frozen=True)
class Allotment:
    family: str
    allotted_s: float  # the search's time budget
    left_s: float  # the searches' time left when it started, the reserve taken off
    reserve_s: float  # the estimate then of the steps after all the searches
    searched_s: float = 0.0  # what the search took (its child run's time), once ended

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class BudgetClock:
    def __init__(self, budget_s: float, started: float | None = None) -> None:
        self.budget_s = budget_s
        self.started = time.monotonic() if started is None else started
        self.spent_before = 0.0  # the budget that earlier attempts' finished searches took

    def elapsed_s(self) -> float:
        return self.spent_before + time.monotonic() - self.started

    def seconds_left(self) -> float:
        return self.budget_s - self.elapsed_s()

    def allot(self, family: str, families_left: int, reserve_s: float) -> Allotment:
        left = self.seconds_left() - reserve_s
        share = max(MIN_SECONDS_PER_FAMILY, left / families_left)
        return Allotment(family, share, left, reserve_s)


def reserve_s(
    budget_s: float,
    searched: Sequence[FamilyResult],
    folds: int,
    allotments: Sequence[Allotment] = (),
) -> float:
    """The steps after the searches, estimated from the families searched so far: how far the
    last search will run past its budget (FLAML finishes the trial under way, then fits the
    best configuration on every row: the larger of the searches' mean overrun so far and the
    slowest such fit, a best trial under cross-validation being `folds` fits on fewer rows),
    the export and its parity check, permutation importance's share, and the fixed rest."""
    fits = [r.best_trial_s / folds for r in searched if folds and r.trials]
    overruns = [max(0.0, a.searched_s - a.allotted_s) for a in allotments]
    overrun = max(max(fits, default=0.0), sum(overruns) / max(1, len(overruns)))
    return FINAL_FIXED_S + overrun + EXPORT_S + IMPORTANCE_SHARE * budget_s
