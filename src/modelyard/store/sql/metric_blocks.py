"""Each metric's lowest and highest finite point per block of steps, kept by `log_batch`.

A chart of a million points needs each of its ~1,000 step ranges' extremes; reading every
point for them takes most of a second on PostgreSQL, however the query is written. Blocks of
64, 512, 4,096 … steps (each 8 times the last) hold those extremes ready: a range is then its
whole blocks plus the points of the blocks cut by its ends (metric_series.py). A block's
extremes only ever move outwards as points arrive, in any order and with repeated steps, so
a batch merges its own blocks' extremes into the stored ones with one upsert.
"""

from __future__ import annotations

from functools import cache
from typing import Final, NamedTuple

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection

# 64 steps up to 2**24: a chart's range is ~1/1,000 of the series, so these serve series of
# up to ~10**10 steps; longer ones are thinned from the points, as before.
BLOCK_STEPS: Final = tuple(2**bits for bits in range(6, 25, 3))
FINEST_STEPS: Final = BLOCK_STEPS[0]

Extreme = tuple[float, int]  # (value, step): compared by value, then step


class Block(NamedTuple):
    name: str
    block_steps: int
    block_start: int
    low: Extreme
    high: Extreme


FinestBlocks = dict[tuple[str, int], list[Extreme]]  # (name, start) → [low, high]


def add_to_finest(finest: FinestBlocks, name: str, step: int, value: float) -> None:
    """A finite point into the extremes of its block of the finest width (a batch's points
    are added one by one, in the same pass that does the rest of the batch's work)."""
    point = (value, step)
    start = step - step % FINEST_STEPS
    extremes = finest.get((name, start))
    if extremes is None:
        finest[(name, start)] = [point, point]
    elif point < extremes[0]:
        extremes[0] = point
    elif point > extremes[1]:
        extremes[1] = point


def blocks_of(finest: FinestBlocks) -> list[Block]:
    """The blocks the batch's points touch at every width, from its finest blocks: a block's
    extremes are those of the blocks it holds. Sorted, so that concurrent writers to one run
    lock the rows in the same order (PostgreSQL)."""
    blocks: list[Block] = []
    level = finest
    for size in BLOCK_STEPS:
        if size != FINEST_STEPS:
            coarser: FinestBlocks = {}
            for (name, start), (low, high) in level.items():
                extremes = coarser.get((name, start - start % size))
                if extremes is None:
                    coarser[(name, start - start % size)] = [low, high]
                else:
                    extremes[0] = min(extremes[0], low)
                    extremes[1] = max(extremes[1], high)
            level = coarser
        blocks.extend(
            Block(name, size, start, low, high) for (name, start), (low, high) in level.items()
        )
    blocks.sort(key=lambda block: (block.name, block.block_steps, block.block_start))
    return blocks


def merge_blocks(connection: Connection, run_id: str, blocks: list[Block]) -> None:
    if not blocks:
        return
    if connection.dialect.name == "postgresql":
        columns = {
            "names": [block.name for block in blocks],
            "sizes": [block.block_steps for block in blocks],
            "starts": [block.block_start for block in blocks],
            "low_steps": [block.low[1] for block in blocks],
            "low_values": [block.low[0] for block in blocks],
            "high_steps": [block.high[1] for block in blocks],
            "high_values": [block.high[0] for block in blocks],
        }
        connection.execute(_merge_on_postgresql(), {"run_id": run_id, **columns})
        return
    rows = [
        (run_id, block.name, block.block_steps, block.block_start, *_flat(block))
        for block in blocks
    ]
    connection.exec_driver_sql(_MERGE_ON_SQLITE, rows)


def _flat(block: Block) -> tuple[int, float, int, float]:
    return block.low[1], block.low[0], block.high[1], block.high[0]


_COLUMNS = "run_id, name, block_steps, block_start, low_step, low_value, high_step, high_value"

# The stored and the new extremes compared as (value, step) rows; SET reads the old row.
KEEP_EXTREMES = """
ON CONFLICT (run_id, name, block_steps, block_start) DO UPDATE SET
  low_step = CASE WHEN (excluded.low_value, excluded.low_step)
    < (metric_blocks.low_value, metric_blocks.low_step)
    THEN excluded.low_step ELSE metric_blocks.low_step END,
  low_value = CASE WHEN (excluded.low_value, excluded.low_step)
    < (metric_blocks.low_value, metric_blocks.low_step)
    THEN excluded.low_value ELSE metric_blocks.low_value END,
  high_step = CASE WHEN (excluded.high_value, excluded.high_step)
    > (metric_blocks.high_value, metric_blocks.high_step)
    THEN excluded.high_step ELSE metric_blocks.high_step END,
  high_value = CASE WHEN (excluded.high_value, excluded.high_step)
    > (metric_blocks.high_value, metric_blocks.high_step)
    THEN excluded.high_value ELSE metric_blocks.high_value END
"""

_MERGE_ON_SQLITE = f"INSERT INTO metric_blocks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)" + (
    KEEP_EXTREMES
)


@cache
def _merge_on_postgresql() -> TextClause:
    """One statement for the whole batch (arrays unnested), not one per block."""
    return text(f"""
INSERT INTO metric_blocks ({_COLUMNS})
SELECT :run_id, * FROM unnest(
  CAST(:names AS text[]), CAST(:sizes AS integer[]), CAST(:starts AS bigint[]),
  CAST(:low_steps AS bigint[]), CAST(:low_values AS float8[]),
  CAST(:high_steps AS bigint[]), CAST(:high_values AS float8[])
)
{KEEP_EXTREMES}
""")
