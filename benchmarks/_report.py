"""The table the server benchmarks print: one row per measurement, Modelyard beside MLflow,
how far ahead Modelyard is, and whether its target is met. Shared by `server.py` and
`portal.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One row of the table: a time in ms or a size (lower is better), or a rate in points/s."""

    label: str
    modelyard: float | None
    mlflow: float | None = None
    unit: str = "ms"
    target: float | None = None
    worst: float | None = None  # the slowest of the repeats, for times
    mlflow_key: str = ""  # which of MLflow's timings goes beside it
    mlflow_worst: float | None = None
    size_note: str = ""  # where the measured size is not the one the target is set at

    @property
    def modelyard_ahead(self) -> float | None:
        if not self.modelyard or not self.mlflow:
            return None
        if self.lower_is_better:
            return self.mlflow / self.modelyard
        return self.modelyard / self.mlflow

    @property
    def lower_is_better(self) -> bool:
        return self.unit in ("ms", "MiB", "KB", "%")

    @property
    def met(self) -> bool | None:
        if self.target is None or self.modelyard is None:
            return None
        # On the median: on a shared machine the worst of a few requests says more about the
        # neighbours than about the server.
        if self.lower_is_better:
            return self.modelyard <= self.target
        return self.modelyard >= self.target


def print_rows(results: list[Result], peer: str = "MLflow") -> None:
    """The table; `peer` heads the second column (the `mlflow` values: whoever runs beside)."""
    print(f"{'measurement':<48}{'Modelyard':>20}{peer:>18}{'Modelyard ahead':>17}  target")
    for row in results:
        print(
            f"{row.label:<48}{with_worst(row.modelyard, row.worst, row.unit):>20}"
            f"{with_worst(row.mlflow, row.mlflow_worst, row.unit):>18}"
            f"{times(row.modelyard_ahead):>17}  {target_cell(row)}"
        )
    print()


def with_worst(value: float | None, worst: float | None, unit: str) -> str:
    cell = number(value, unit)
    if unit in ("ms", "MiB") and value is not None and worst is not None:
        cell += f" ({worst:,.0f})"
    return cell


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:,.1f}" if unit in ("ms", "%") and value < 10 else f"{value:,.0f}"


def times(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:,.1f}×"


def target_cell(row: Result) -> str:
    if row.target is None:
        return ""
    bound = f"≤ {row.target:,.0f} {row.unit}" if row.lower_is_better else f"≥ {row.target:,.0f}"
    return f"{bound}: {'met' if row.met else 'NOT met'}{row.size_note}"
