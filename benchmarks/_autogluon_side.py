"""AutoGluon's side of `automl.py`, run by the Python of AutoGluon's own virtualenv (Modelyard's
is left without it): fit `TabularPredictor` on the training CSV under the time limit, predict
the test CSV, print one JSON line with the predictions. Scoring happens in `automl.py`, with the
same code for every system.

    python _autogluon_side.py TRAIN.csv TEST.csv LABEL PROBLEM_TYPE EVAL_METRIC SECONDS OUT_DIR
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    train_csv, test_csv, label, problem_type, eval_metric, seconds, out_dir = argv
    import pandas as pd
    from autogluon.tabular import TabularPredictor

    train = pd.read_csv(train_csv)
    test = pd.read_csv(test_csv)
    started = time.perf_counter()
    predictor = TabularPredictor(
        label=label,
        problem_type=problem_type,
        eval_metric=eval_metric,
        path=out_dir,
        verbosity=0,
    ).fit(train, time_limit=float(seconds))
    fit_seconds = time.perf_counter() - started
    predictions = predictor.predict(test.drop(columns=[label]))
    print(
        json.dumps(
            {
                "predictions": [float(value) for value in predictions],
                "fit_seconds": fit_seconds,
                "best_model": str(predictor.model_best),
                "models": len(predictor.model_names()),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
