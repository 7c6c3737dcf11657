"""The batch-scoring job: `python -m modelyard.builtin_jobs.batch_score --config config.json`
scores every file of the config's data folder with its model (`modelyard.serving.batch`).

The output grows in the run's checkpoint folder, mini-batch by mini-batch, and is copied into
`./outputs` (`predictions.jsonl`, `unreadable.jsonl`) once every file is done, so the run's
outputs hold a whole result or none. Asked to stop (SIGTERM: a preemption), the job stops after
its current mini-batch and exits with STOPPED_EXIT_CODE; the run's next attempt resumes from
the output it finds in the checkpoint folder. Past the error threshold the run fails with one
line, and `outputs/unreadable.jsonl` lists the files that failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from modelyard.errors import ModelyardError
from modelyard.runtime.job_error import failed_job
from modelyard.runtime.preemption import STOPPED_EXIT_CODE
from modelyard.sdk._objects import OfflineRun, Run
from modelyard.serving.batch.config import BatchScoreConfig
from modelyard.serving.batch.files import list_data_files
from modelyard.serving.batch.ledger import Ledger
from modelyard.serving.batch.scoring import BatchProgress, BatchScorer, Outcome
from modelyard.serving.image_model import load_image_model

OUTPUTS = Path("outputs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelyard.builtin_jobs.batch_score")
    parser.add_argument("--config", required=True, type=Path)
    options = parser.parse_args(argv)
    run = Run.get_context()
    started = time.perf_counter()
    ledger: Ledger | None = None
    try:
        config = BatchScoreConfig.from_dict(json.loads(options.config.read_text()))
        ledger = Ledger(run.checkpoint_dir)
        outcome = _score(run, config, ledger)
    except ModelyardError as error:
        if ledger is not None:
            ledger.publish(OUTPUTS, include_predictions=False)
        return failed_job(error.message)
    if outcome is Outcome.STOPPED:
        print(f"stopped to be resumed (attempt {run.attempt})", flush=True)
        return STOPPED_EXIT_CODE
    ledger.publish(OUTPUTS)
    print(f"done in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


def _score(run: Run | OfflineRun, config: BatchScoreConfig, ledger: Ledger) -> Outcome:
    files = list_data_files(Path(config.data))
    recorded = ledger.recorded_progress()
    print(
        f"attempt {run.attempt}: {len(files)} files, {ledger.progress.done} already in the output"
        f" (progress record: {recorded.done if recorded else 0})",
        flush=True,
    )
    if run.attempt == 1 and not ledger.progress.done:
        run.log_params({"model": config.model_reference, "files": len(files)})
    # Read now, so that a stop asked for while the model loads is honoured here (reading it
    # opts in: SIGTERM no longer ends the job mid-write, it ends it between mini-batches).
    if run.stop_requested:
        return Outcome.STOPPED
    model = load_image_model(Path(config.model))
    scorer = BatchScorer(config, model, ledger, _reporter(run), lambda: run.stop_requested)
    outcome = scorer.run(files)
    run.flush()
    return outcome


def _reporter(run: Run | OfflineRun) -> Callable[[BatchProgress], None]:
    def report(progress: BatchProgress) -> None:
        step = progress.scored + progress.failed
        run.log_metrics(
            {
                "files_scored": progress.scored,
                "files_failed": progress.failed,
                "images_per_s": progress.images_per_s,
            },
            step=step,
        )

    return report


if __name__ == "__main__":
    sys.exit(main())
