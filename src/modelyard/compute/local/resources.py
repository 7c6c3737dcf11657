"""What a job of a sized local compute gets of this host: its own CPUs, thread counts that
match them, GPUs of its own where the host has any, and a memory limit.

The choices here are pure; the supervisor applies them when it starts the script
(`runtime/supervisor.py`, `memory_watch.py`). Which CPUs and GPUs a running job holds is written
into its script's environment (`JOB_CPUS_ENV`, `JOB_GPUS_ENV`), where the next job's
supervisor reads it (`processes.running_job_placements`): a claim that ends with the script
itself, with nothing to clean up after a crash.

The built-in `local` compute has no size, so its jobs get none of this: no pinning, no limit, no
variables changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from modelyard.entities.compute import ComputeSize
from modelyard.errors import ComputeUnavailable, InvalidValue

# The CPUs and GPUs (indexes of this host) a job of a sized compute holds. `lifeline.py` pins
# the script to the CPUs before it starts; other supervisors read both to choose around them.
JOB_CPUS_ENV = "MODELYARD_JOB_CPUS"
JOB_GPUS_ENV = "MODELYARD_JOB_GPUS"
# The thread pools of the usual numeric libraries: OpenMP (also PyTorch's intra-op pool), MKL,
# OpenBLAS, numexpr, Apple's Accelerate. Without them each library starts a thread per CPU of
# the host, however few CPUs the job is pinned to.
THREAD_COUNT_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
GIB = 2**30


@dataclass(frozen=True)
class SizeLimits:
    """What one job of a size asks of this host; travels as the supervisor's arguments."""

    size: str
    cpus: int
    memory_limit_bytes: int
    gpus: int = 0

    @classmethod
    def of(cls, size: ComputeSize) -> SizeLimits:
        return cls(size.name, size.vcpus, int(size.memory_gib * GIB), size.gpus)

    def to_arguments(self) -> list[str]:
        return [
            "--size",
            self.size,
            "--cpus",
            str(self.cpus),
            "--memory-limit-bytes",
            str(self.memory_limit_bytes),
            "--gpus",
            str(self.gpus),
        ]


@dataclass(frozen=True)
class Placement:
    """The CPUs and GPUs of this host one job holds."""

    cpus: tuple[int, ...]
    gpus: tuple[int, ...] = ()

    def environment(self) -> dict[str, str]:
        """The variables the job's script starts with: its claim, its thread counts, and
        CUDA_VISIBLE_DEVICES only when it holds GPUs (left alone on a host without any)."""
        variables = {JOB_CPUS_ENV: format_indexes(self.cpus)}
        variables.update(dict.fromkeys(THREAD_COUNT_VARIABLES, str(len(self.cpus))))
        if self.gpus:
            variables[JOB_GPUS_ENV] = format_indexes(self.gpus)
            variables["CUDA_VISIBLE_DEVICES"] = format_indexes(self.gpus)
        return variables

    @classmethod
    def from_environment(cls, environment: dict[str, str]) -> Placement | None:
        """A running job's claim, read from its environment; None for a job that holds none."""
        if JOB_CPUS_ENV not in environment:
            return None
        try:
            cpus = parse_indexes(environment[JOB_CPUS_ENV])
            gpus = parse_indexes(environment.get(JOB_GPUS_ENV, ""))
        except InvalidValue:
            return None  # not ours to read (someone set the variable by hand)
        return cls(cpus, gpus)


def script_environment(base: dict[str, str], placement: Placement | None) -> dict[str, str]:
    """`base` with this job's placement, if it has one, and never a claim inherited from
    whoever started the supervisor (a job that submits jobs carries its own in its variables)."""
    environment = {
        name: value for name, value in base.items() if name not in (JOB_CPUS_ENV, JOB_GPUS_ENV)
    }
    if placement is not None:
        environment.update(placement.environment())
    return environment


def place(
    limits: SizeLimits,
    host_cpus: Collection[int],
    host_gpus: Sequence[int],
    others: Iterable[Placement],
) -> Placement:
    """The CPUs and GPUs for a new job, around what the `others` running now hold."""
    others = list(others)
    cpus = choose_cpus(limits.cpus, host_cpus, [other.cpus for other in others])
    gpus = choose_gpus(limits.gpus, host_gpus, [other.gpus for other in others])
    return Placement(cpus, gpus)


def choose_cpus(
    count: int, host_cpus: Collection[int], taken: Iterable[Collection[int]]
) -> tuple[int, ...]:
    """The `count` CPUs least used by the `taken` sets (lowest index first among equals).

    The scheduler admits sized jobs only while their CPUs add up to at most the host's, so CPUs
    no other job holds are there in the usual case; jobs of another workspace on this host (whose
    scheduler does not know ours) may leave fewer, and then the job shares the least busy ones
    rather than waiting."""
    use = Counter(cpu for cpus in taken for cpu in cpus if cpu in host_cpus)
    ranked = sorted(host_cpus, key=lambda cpu: (use[cpu], cpu))
    return tuple(sorted(ranked[: max(count, 1)]))


def free_gpus(host_gpus: Sequence[int], taken: Iterable[Collection[int]]) -> list[int]:
    """The host's GPUs that no running job holds, in index order."""
    held = {gpu for gpus in taken for gpu in gpus}
    return sorted(gpu for gpu in host_gpus if gpu not in held)


def choose_gpus(
    count: int, host_gpus: Sequence[int], taken: Iterable[Collection[int]]
) -> tuple[int, ...]:
    """`count` GPUs no other job holds; a GPU is never shared (two jobs on one GPU run out of
    its memory), so too few free ones is an error that names who holds them."""
    if count <= 0:
        return ()
    taken = list(taken)
    free = free_gpus(host_gpus, taken)
    if len(free) < count:
        held = sorted({gpu for gpus in taken for gpu in gpus} & set(host_gpus))
        raise ComputeUnavailable(
            f"the job needs {count} GPUs of its own and {len(free)} of this host's"
            f" {len(host_gpus)} are free (GPUs {format_indexes(tuple(held)) or 'none'} are held"
            " by other jobs, perhaps of another workspace): submit it again when they end",
            needed=count,
            free=len(free),
        )
    return tuple(free[:count])


def memory_exceeded_message(size: str, used_bytes: int, limit_bytes: int) -> str:
    """The one line a run fails with when its job outgrew its size's memory."""
    return (
        f"the job used {format_gib(used_bytes)} GiB, more than size {size}'s"
        f" {format_gib(limit_bytes)} GiB: choose a larger size"
    )


def format_gib(size_bytes: int) -> str:
    """7516192768 → "7", 3758096384 → "3.5", 7838315315 → "7.3": at most two decimals."""
    return f"{size_bytes / GIB:.2f}".rstrip("0").rstrip(".")


def format_indexes(indexes: Iterable[int]) -> str:
    return ",".join(str(index) for index in indexes)


def parse_indexes(text: str) -> tuple[int, ...]:
    """ "0,2,3" → (0, 2, 3); "" → ()."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not all(part.isdigit() for part in parts):
        raise InvalidValue(
            f"{text!r} is not a list of CPU or GPU indexes: use numbers separated by commas,"
            " for example 0,1",
            indexes=text,
        )
    return tuple(int(part) for part in parts)
