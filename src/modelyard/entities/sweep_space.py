"""A sweep's search space: Azure ML's parameter expressions, each a distribution of one value.

Written as Azure's sweep YAML writes them (`{type: uniform, min_value: 0.01, max_value: 0.1}`),
with Azure's meanings: `loguniform` and `qloguniform` take the natural-log EXPONENTS
(`exp(uniform(min_value, max_value))`), `randint` is an integer in [0, upper), the q-variants
round to a multiple of q (`round(x / q) * q`; an integer q gives integers).

Every distribution maps a number u in [0, 1) to a value (`from_unit`): random and Sobol
sampling both draw u and go through it (the inverse CDF), so each trial's value is a pure
function of what was drawn for it. A trial's values are recorded as params (text) and read
back with `parse_value`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist
from typing import Any, Final

from modelyard.entities import limits
from modelyard.errors import InvalidValue

ParamValue = str | int | float | bool
PARAMETER_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PARAMETERS_MAX: Final = limits.PARAMS_PER_BATCH_MAX  # a trial's params are logged in one batch
CHOICES_MAX: Final = 1000
_STANDARD_NORMAL: Final = NormalDist()
_UNIT_EDGE: Final = 1e-12  # the normal's inverse CDF is infinite at 0 and 1


class DistributionType(StrEnum):
    CHOICE = "choice"
    RANDINT = "randint"
    UNIFORM = "uniform"
    QUNIFORM = "quniform"
    LOGUNIFORM = "loguniform"
    QLOGUNIFORM = "qloguniform"
    NORMAL = "normal"
    QNORMAL = "qnormal"
    LOGNORMAL = "lognormal"
    QLOGNORMAL = "qlognormal"


T = DistributionType
# The fields each distribution takes, as Azure's YAML names them.
FIELDS: Final[Mapping[DistributionType, tuple[str, ...]]] = {
    T.CHOICE: ("values",),
    T.RANDINT: ("upper",),
    T.UNIFORM: ("min_value", "max_value"),
    T.QUNIFORM: ("min_value", "max_value", "q"),
    T.LOGUNIFORM: ("min_value", "max_value"),
    T.QLOGUNIFORM: ("min_value", "max_value", "q"),
    T.NORMAL: ("mu", "sigma"),
    T.QNORMAL: ("mu", "sigma", "q"),
    T.LOGNORMAL: ("mu", "sigma"),
    T.QLOGNORMAL: ("mu", "sigma", "q"),
}
_EXAMPLES: Final[Mapping[DistributionType, str]] = {
    T.CHOICE: "{type: choice, values: [16, 32, 64]}",
    T.RANDINT: "{type: randint, upper: 10}",
    T.UNIFORM: "{type: uniform, min_value: 0.01, max_value: 0.1}",
    T.QUNIFORM: "{type: quniform, min_value: 16, max_value: 128, q: 16}",
    T.LOGUNIFORM: "{type: loguniform, min_value: -6, max_value: -1}",
    T.QLOGUNIFORM: "{type: qloguniform, min_value: 2, max_value: 6, q: 1}",
    T.NORMAL: "{type: normal, mu: 0.5, sigma: 0.1}",
    T.QNORMAL: "{type: qnormal, mu: 64, sigma: 8, q: 8}",
    T.LOGNORMAL: "{type: lognormal, mu: -3, sigma: 1}",
    T.QLOGNORMAL: "{type: qlognormal, mu: 3, sigma: 1, q: 1}",
}
_LARGEST_EXPONENT: Final = 700.0  # exp() of more overflows a float


@dataclass(frozen=True)
class Distribution:
    """One parameter expression. Built by `parse` (YAML, JSON) or the SDK's functions, and
    checked by `check` before any sweep uses it."""

    type: DistributionType
    values: tuple[ParamValue, ...] = ()
    upper: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    mu: float | None = None
    sigma: float | None = None
    q: float | None = None

    # Reading -----------------------------------------------------------------------------

    @classmethod
    def parse(cls, name: str, spec: object) -> Distribution:
        """`spec` as the YAML holds it: a mapping with `type` and that type's fields."""
        where = f"search_space.{name}"
        if not isinstance(spec, Mapping) or "type" not in spec:
            raise InvalidValue(
                f"{where} is {spec!r}, not a distribution: write it as {_EXAMPLES[T.UNIFORM]}"
                f" or {_EXAMPLES[T.CHOICE]}",
                parameter=name,
            )
        kind = _distribution_type(where, spec["type"])
        unknown = sorted(set(spec) - {"type", *FIELDS[kind]})
        if unknown:
            raise InvalidValue(
                f"{where} ({kind.value}) has unknown field {unknown[0]!r}: a {kind.value} takes"
                f" {', '.join(FIELDS[kind])}, as in {_EXAMPLES[kind]}",
                parameter=name,
                field=unknown[0],
            )
        missing = [key for key in FIELDS[kind] if spec.get(key) is None]
        if missing:
            raise InvalidValue(
                f"{where} ({kind.value}) needs {missing[0]!r}: add it, as in {_EXAMPLES[kind]}",
                parameter=name,
                field=missing[0],
            )
        if kind is T.CHOICE:
            return cls(kind, values=_choice_values(where, spec["values"])).check(name)
        numbers = {key: finite_number(where, key, spec[key]) for key in FIELDS[kind]}
        if "upper" in numbers:
            numbers["upper"] = whole_number(where, "upper", spec["upper"])
        return cls(kind, **numbers).check(name)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type.value}
        for key in FIELDS[self.type]:
            value = getattr(self, key)
            data[key] = list(value) if key == "values" else value
        return data

    # Checking ----------------------------------------------------------------------------

    def check(self, name: str) -> Distribution:
        where = f"search_space.{name} ({self.type.value})"
        if self.type is T.CHOICE:
            _check_choices(where, self.values)
        if self.upper is not None and self.upper < 1:
            raise InvalidValue(
                f"{where} has upper {self.upper}: randint draws from [0, upper), so upper must"
                " be at least 1",
                parameter=name,
            )
        if self.min_value is not None and self.max_value is not None:
            _check_range(where, self.type, self.min_value, self.max_value)
        if self.sigma is not None and not self.sigma > 0:
            raise InvalidValue(
                f"{where} has sigma {self.sigma:g}: the standard deviation must be above 0",
                parameter=name,
            )
        if self.q is not None and not self.q > 0:
            raise InvalidValue(
                f"{where} has q {self.q:g}: values are rounded to multiples of q, which must be"
                " above 0",
                parameter=name,
            )
        return self

    # Values ------------------------------------------------------------------------------

    @property
    def is_choice(self) -> bool:
        return self.type is T.CHOICE

    @property
    def draws_whole_numbers(self) -> bool:
        """A randint, or a q-variant with a whole q (its values are multiples of q: integers)."""
        return self.type is T.RANDINT or (self.q is not None and float(self.q).is_integer())

    def from_unit(self, u: float) -> ParamValue:
        """The value whose quantile is `u` (0 ≤ u < 1): what a draw of u samples."""
        u = min(max(u, 0.0), 1.0 - _UNIT_EDGE)
        if self.type is T.CHOICE:
            return self.values[int(u * len(self.values))]
        if self.type is T.RANDINT:
            assert self.upper is not None
            return min(int(u * self.upper), self.upper - 1)
        if self.type in (T.NORMAL, T.QNORMAL, T.LOGNORMAL, T.QLOGNORMAL):
            assert self.mu is not None and self.sigma is not None
            drawn = self.mu + self.sigma * _STANDARD_NORMAL.inv_cdf(max(u, _UNIT_EDGE))
        else:
            assert self.min_value is not None and self.max_value is not None
            drawn = self.min_value + u * (self.max_value - self.min_value)
        if self.type in (T.LOGUNIFORM, T.QLOGUNIFORM, T.LOGNORMAL, T.QLOGNORMAL):
            drawn = math.exp(min(drawn, _LARGEST_EXPONENT))
        return self.quantize(drawn) if self.q is not None else drawn

    def quantize(self, value: float) -> int | float:
        """`round(value / q) * q`: an integer for an integer q, else the nearest short float
        (0.30000000000000004 → 0.3), as a user reads and writes it."""
        assert self.q is not None
        steps = round(value / self.q)
        if float(self.q).is_integer():
            return int(steps * int(self.q))
        return float(f"{steps * self.q:.12g}")

    def parse_value(self, text: str) -> ParamValue:
        """A value recorded as a trial's param, back as this distribution's value."""
        if self.type is T.CHOICE:
            for value in self.values:
                if format_value(value) == text:
                    return value
            raise InvalidValue(f"{text!r} is not one of the choices {list(self.values)}")
        try:
            number = float(text)
        except ValueError:
            raise InvalidValue(f"{text!r} is not a number") from None
        if self.type is T.RANDINT or (self.q is not None and float(self.q).is_integer()):
            return int(number)
        return number


def format_value(value: ParamValue) -> str:
    """A value as a trial's command line and params carry it."""
    return str(value)


def parse_search_space(spec: object) -> dict[str, Distribution]:
    if not isinstance(spec, Mapping) or not spec:
        raise InvalidValue(
            f"search_space is {spec!r}: give it one entry per hyperparameter, like"
            f" 'search_space: {{lr: {_EXAMPLES[T.LOGUNIFORM]}}}'",
        )
    return {check_parameter_name(name): Distribution.parse(name, d) for name, d in spec.items()}


def check_search_space(space: Mapping[str, Distribution]) -> None:
    if not space:
        raise InvalidValue(
            "the search space is empty: give at least one hyperparameter, like"
            f" lr: {_EXAMPLES[T.LOGUNIFORM]}"
        )
    if len(space) > PARAMETERS_MAX:
        raise InvalidValue(
            f"the search space has {len(space)} hyperparameters, more than {PARAMETERS_MAX}:"
            " sweep fewer at once",
        )
    for name, distribution in space.items():
        distribution.check(check_parameter_name(name))


def check_parameter_name(name: object) -> str:
    if not isinstance(name, str) or not PARAMETER_NAME.fullmatch(name):
        raise InvalidValue(
            f"hyperparameter name {name!r} is not valid: use letters, digits and '_' (not first"
            " a digit), as ${{search_space.NAME}} refers to it",
            parameter=str(name),
        )
    if len(name) > limits.PARAM_KEY_MAX:
        raise InvalidValue(
            f"hyperparameter name {name[:40]!r}… is over {limits.PARAM_KEY_MAX} characters:"
            " use a shorter name",
            parameter=name,
        )
    return name


def grid_size(space: Mapping[str, Distribution]) -> int:
    return math.prod(len(distribution.values) for distribution in space.values())


def _distribution_type(where: str, value: object) -> DistributionType:
    try:
        return DistributionType(str(value).strip().lower())
    except ValueError:
        raise InvalidValue(
            f"{where} has unknown distribution {value!r}: use one of"
            f" {', '.join(kind.value for kind in DistributionType)}",
            distribution=str(value),
        ) from None


def finite_number(where: str, key: str, value: object) -> float:
    """`value` of field `where.key` as a float, refused in one line unless a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValue(f"{where}.{key} is {value!r}: it must be a finite number", field=key)
    return float(value)


def whole_number(where: str, key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidValue(f"{where}.{key} is {value!r}: it must be a whole number", field=key)
    return int(value)


def _choice_values(where: str, values: object) -> tuple[ParamValue, ...]:
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise InvalidValue(
            f"{where}.values is {values!r}: give a list, as in {_EXAMPLES[T.CHOICE]}",
            field="values",
        )
    return tuple(values)


def _check_choices(where: str, values: Sequence[object]) -> None:
    if not values:
        raise InvalidValue(f"{where} has no values: list at least one, as in {_EXAMPLES[T.CHOICE]}")
    if len(values) > CHOICES_MAX:
        raise InvalidValue(f"{where} has {len(values)} values, more than {CHOICES_MAX}")
    for value in values:
        if not isinstance(value, str | int | float | bool) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise InvalidValue(
                f"{where} has value {value!r}: choices are numbers, strings or booleans",
                value=repr(value),
            )
    texts = [format_value(value) for value in values]  # type: ignore[arg-type]
    repeated = next((text for text in texts if texts.count(text) > 1), None)
    if repeated is not None:
        raise InvalidValue(
            f"{where} lists {repeated!r} more than once: list each choice once", value=repeated
        )


def _check_range(where: str, kind: DistributionType, low: float, high: float) -> None:
    if not low < high:
        raise InvalidValue(
            f"{where} has min_value {low:g} and max_value {high:g}: min_value must be below"
            " max_value",
        )
    if kind in (T.LOGUNIFORM, T.QLOGUNIFORM) and high > _LARGEST_EXPONENT:
        raise InvalidValue(
            f"{where} has max_value {high:g}: a {kind.value}'s bounds are natural-log exponents"
            f" (values from exp({low:g}) to exp({high:g})); for 0.0001 to 0.1 write"
            " min_value: -9.21, max_value: -2.3",
        )


__all__ = [
    "FIELDS",
    "Distribution",
    "DistributionType",
    "ParamValue",
    "check_parameter_name",
    "check_search_space",
    "finite_number",
    "format_value",
    "grid_size",
    "parse_search_space",
    "whole_number",
]
