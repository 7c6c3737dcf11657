"""A sweep's, an AutoML-for-tables and an AutoML-for-images run's pages in a real headless
Chromium on a real server: the children's leaderboard, best first by the goal and sortable,
each row linking to its run (a trial canceled by the early-termination policy with its
reason), the chart of the trials, and for AutoML for tables the guardrails checks and the
feature importance chart.

The runs are written through the store as the sweep driver and the AutoML trainer write them
(a real sweep runs its trials as processes for a minute: tests/services/sweeps covers that);
the leaderboard, the guardrails report and the importance come from the real code that makes
them (`build_leaderboard`, `check_table`, `permutation_importance_of`)."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelyard.entities import Metric, RunSource, RunStatus
from modelyard.services.automl import AUTOML_TITLE, IMAGE_AUTOML_TITLE
from modelyard.services.job_file import load_job_file
from modelyard.services.sweeps.leaderboard import LEADERBOARD_FILE, build_leaderboard
from modelyard.services.sweeps.sweep_job import SweepJob
from modelyard.services.sweeps.trials import TRIAL_PROPERTY, TrialReader
from modelyard.services.workspaces import OpenWorkspace
from server.browser_support import checked_page, log_in
from server.portal_support import Served
from server.spa_support import check_page

playwright_api = pytest.importorskip("playwright.sync_api")

SWEEP = """
type: sweep
experiment_name: tune
sampling_algorithm: {type: random, seed: 3}
search_space:
  lr: {type: loguniform, min_value: -7, max_value: 0}
  optimizer: {type: choice, values: [adam, sgd]}
objective: {primary_metric: val_loss, goal: minimize}
early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 1}
limits: {max_total_trials: 5, max_concurrent_trials: 2}
trial:
  code: src
  command: python train.py --lr ${{search_space.lr}} --optimizer ${{search_space.optimizer}}
"""
# Trial number, lr, optimizer, val_loss per step, how it ended (and why).
BANDIT_REASON = "bandit policy: val_loss 2.4 at interval 2 is outside the slack of the best 0.61"
TRIALS = (
    (0, "0.01", "adam", (0.9, 0.61), RunStatus.COMPLETED, None),
    (1, "0.5", "sgd", (2.6, 2.4), RunStatus.CANCELED, BANDIT_REASON),
    (2, "0.001", "sgd", (0.95, 0.8), RunStatus.COMPLETED, None),
    (3, "0.05", "adam", (0.7, 0.45), RunStatus.COMPLETED, None),
)


def test_a_sweeps_leaderboard_best_first_sortable_with_a_canceled_trials_reason_and_chart(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace, tmp_path: Path
) -> None:
    parent_id, trial_ids = recorded_sweep(ws, tmp_path)
    with checked_page(browser, site) as page:
        log_in(page, site, f"/app/runs/{parent_id}")
        rows = page.locator("#leaderboard tbody tr[data-run-id]")
        rows.first.wait_for()
        # Best first: val_loss minimized, the canceled trial after the ranked ones.
        assert trial_column(page, 0) == ["3", "0", "2", "1"]
        assert page.locator("#leaderboard tr.best-row").get_attribute("data-run-id") == trial_ids[3]
        canceled = page.locator(f"#leaderboard tr[data-run-id='{trial_ids[1]}']")
        assert BANDIT_REASON in canceled.inner_text()
        assert "Canceled" in canceled.inner_text()
        assert "4 of 5 trials, 3 ranked by val_loss" in page.inner_text("#board-progress")

        chart = page.locator("#trials-chart svg")
        assert chart.get_attribute("data-axes") == "3"  # lr, optimizer, val_loss
        assert page.locator("#trials-chart path.parallel-line").count() == len(TRIALS)
        check_page(page, "sweep-parent")

        page.click("#leaderboard th[data-column='param:lr'] button")
        assert trial_column(page, 0) == ["2", "0", "3", "1"]
        page.click("#leaderboard th[data-column='param:lr'] button")
        assert trial_column(page, 0) == ["1", "3", "0", "2"]
        page.click("#leaderboard th[data-column=value] button")
        assert trial_column(page, 0) == ["3", "0", "2", "1"]

        page.click("#leaderboard >> text=tune_sweep_trial_3")
        page.wait_for_url(f"**/app/runs/{trial_ids[3]}")
        page.locator("h1", has_text="tune_sweep_trial_3").wait_for()


def test_an_automl_runs_families_guardrails_and_feature_importance(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace
) -> None:
    parent_id, family_ids = recorded_automl(ws)
    with checked_page(browser, site) as page:
        log_in(page, site, f"/app/runs/{parent_id}")
        page.locator("#leaderboard tbody tr").first.wait_for()
        page.wait_for_function(
            "() => document.querySelectorAll('#leaderboard tbody tr').length === 4"
        )
        # accuracy maximized; the ensemble (no child run of its own) from the final leaderboard.
        assert trial_column(page, 0) == ["voting_ensemble", "random_forest", "lgbm", "knn"]
        assert page.locator("#leaderboard >> a", has_text="random_forest").get_attribute(
            "href"
        ) == (f"/app/runs/{family_ids['random_forest']}")
        knn = page.locator(f"#leaderboard tr[data-run-id='{family_ids['knn']}']")
        assert "no knn trial finished within 2.0 s" in knn.inner_text()
        assert page.locator("#trials-chart path.parallel-line").count() == 4
        check_page(page, "automl-parent")

        page.click("role=tab[name='Data guardrails']")
        page.wait_for_url("**?panel=guardrails")
        checks = page.locator("#guardrails-checks")
        checks.wait_for()
        statuses = {
            row.get_attribute("data-check"): row.locator(".badge").inner_text()
            for row in checks.locator("tbody tr").all()
        }
        assert statuses["missing_values"] == "Done"
        assert statuses["class_imbalance"] == "Alerted"
        assert statuses["duplicate_rows"] == "Passed"
        check_page(page, "automl-guardrails")

        page.click("role=tab[name='Feature importance']")
        page.wait_for_url("**?panel=importance")
        bars = page.locator("#feature-importance .importance-row")
        bars.first.wait_for()
        drawn = [bar.get_attribute("data-column") for bar in bars.all()]
        assert drawn[0] == "signal"  # the column the label is made from
        assert set(drawn) == {"signal", "noise", "constant_ish"}
        widths = [float(bar.locator("rect").get_attribute("width") or 0) for bar in bars.all()]
        assert widths[0] > widths[-1]
        check_page(page, "automl-importance")


# An AutoML-for-images run's candidates: backbone, rate, epochs, best validation accuracy, end.
CANDIDATES = (
    ("resnet18", "0.01", "50", 0.75, RunStatus.COMPLETED, None),
    ("mobilenet", "0.01", "50", 0.875, RunStatus.COMPLETED, None),
    ("efficientnet-lite0", "0.003", "50", None, RunStatus.FAILED, "preempted, stopped at epoch 3"),
)


def test_an_image_automl_runs_candidates_best_first_with_their_settings(
    browser: playwright_api.Browser, site: Served, ws: OpenWorkspace
) -> None:
    parent_id, candidate_ids = recorded_image_automl(ws)
    with checked_page(browser, site) as page:
        log_in(page, site, f"/app/runs/{parent_id}")
        page.wait_for_function(
            "() => document.querySelectorAll('#leaderboard tbody tr').length === 3"
        )
        assert trial_column(page, 0) == [
            "mobilenet lr=0.01 epochs=50",
            "resnet18 lr=0.01 epochs=50",
            "efficientnet-lite0 lr=0.003 epochs=50",
        ]
        best = page.locator("#leaderboard tr.best-row")
        assert best.get_attribute("data-run-id") == candidate_ids["mobilenet"]
        assert "mobilenet" in best.inner_text() and "0.875" in best.inner_text()
        stopped = page.locator(
            f"#leaderboard tr[data-run-id='{candidate_ids['efficientnet-lite0']}']"
        )
        assert "preempted, stopped at epoch 3" in stopped.inner_text()
        chart = page.locator("#trials-chart svg")
        assert chart.get_attribute("data-axes") == "5"  # backbone, rate, epochs, fine_tune, metric
        check_page(page, "automl-images-parent")


def recorded_image_automl(ws: OpenWorkspace) -> tuple[str, dict[str, str]]:
    """An AutoML-for-images run as `vision/automl.py` records it: a child run per candidate,
    tagged with its key and backbone, its settings as params and its best accuracy."""
    parent = ws.store.create_run(
        "shapes",
        user="admin",
        display_name="shapes image automl",
        source=RunSource(script=IMAGE_AUTOML_TITLE, arguments=("--data", "shapes")),
        status=RunStatus.RUNNING,
    )
    ws.store.log_batch(
        parent.id, params={"task": "image-classification", "primary_metric": "accuracy"}
    )
    ids = {}
    for backbone, rate, epochs, best, status, reason in CANDIDATES:
        key = f"{backbone} lr={rate} epochs={epochs}"
        child = ws.store.create_run("shapes", user="admin", display_name=key, parent_id=parent.id)
        ws.store.transition_run(child.id, RunStatus.RUNNING)
        points = [] if best is None else [Metric("best_validation_accuracy", best, 0, time.time())]
        ws.store.log_batch(
            child.id,
            points,
            params={"learning_rate": rate, "epochs": epochs, "fine_tune": "False"},
            tags={"automl_candidate": key, "backbone": backbone},
        )
        ws.store.transition_run(child.id, status, error=reason)
        ids[backbone] = child.id
    ws.store.transition_run(parent.id, RunStatus.COMPLETED)
    return parent.id, ids


def trial_column(page: playwright_api.Page, index: int) -> list[str]:
    return page.eval_on_selector_all(
        "#leaderboard tbody tr",
        f"rows => rows.map(row => row.querySelectorAll('td')[{index}].textContent.trim())",
    )


def recorded_sweep(ws: OpenWorkspace, tmp_path: Path) -> tuple[str, list[str]]:
    """A sweep's parent and trials as its driver records them: the parent's properties, each
    trial a child with its params and trial number, and the leaderboard on the parent."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("print('trial')\n")
    (tmp_path / "sweep.yml").write_text(textwrap.dedent(SWEEP))
    job = load_job_file(tmp_path / "sweep.yml")
    assert isinstance(job, SweepJob)
    config = job.config
    parent = ws.store.create_run(
        "tune", user="admin", display_name="tune_sweep", status=RunStatus.RUNNING
    )
    ws.store.add_properties(
        parent.id,
        {"sweep.primary_metric": "val_loss", "sweep.goal": "minimize", "sweep.sampling": "random"},
    )
    trial_ids = []
    for number, lr, optimizer, losses, status, reason in TRIALS:
        child = ws.store.create_run(
            "tune",
            user="admin",
            display_name=f"tune_sweep_trial_{number}",
            parent_id=parent.id,
            status=RunStatus.RUNNING,
        )
        ws.store.add_properties(child.id, {TRIAL_PROPERTY: str(number)})
        now = time.time()
        points = [Metric("val_loss", loss, step, now) for step, loss in enumerate(losses)]
        ws.store.log_batch(child.id, points, params={"lr": lr, "optimizer": optimizer})
        ws.store.transition_run(child.id, status, error=reason)
        trial_ids.append(child.id)
    reader = TrialReader(ws.store, config)
    board = build_leaderboard(config, reader.trials(reader.children(parent.id)))
    text = json.dumps(board.to_dict(), indent=2, sort_keys=True)
    ws.artifacts.put_bytes(parent.id, LEADERBOARD_FILE, text.encode())
    ws.store.log_batch(parent.id, tags=board.tags())
    return parent.id, trial_ids


# Family, best accuracy and trials, how it ended (and why).
FAMILIES = (
    ("lgbm", 0.91, 12, RunStatus.COMPLETED, None),
    ("random_forest", 0.94, 7, RunStatus.COMPLETED, None),
    ("knn", None, 0, RunStatus.FAILED, "no knn trial finished within 2.0 s"),
)


def recorded_automl(ws: OpenWorkspace) -> tuple[str, dict[str, str]]:
    """An AutoML-for-tables run as its trainer records it: its params, a child run per model
    family with its best value, the final leaderboard, the guardrails report of a real check
    of the table and the permutation importance of a model fitted on it."""
    from modelyard.tabular.guardrails import check_table

    parent = ws.store.create_run(
        "tables",
        user="admin",
        display_name="signals classification",
        source=RunSource(script=AUTOML_TITLE, arguments=("--task", "classification")),
        status=RunStatus.RUNNING,
    )
    params = {"task": "classification", "label": "label", "primary_metric": "accuracy"}
    ws.store.log_batch(parent.id, params=params)
    family_ids = {}
    for family, best, trials, status, reason in FAMILIES:
        child = ws.store.create_run(
            "tables", user="admin", display_name=family, parent_id=parent.id
        )
        ws.store.transition_run(child.id, RunStatus.RUNNING)
        now = time.time()
        points = [Metric("trials", trials, 0, now)]
        if best is not None:
            points.append(Metric("best_accuracy", best, 0, now))
        ws.store.log_batch(child.id, points, tags={"automl_family": family})
        ws.store.transition_run(child.id, status, error=reason)
        family_ids[family] = child.id
    models = [
        {"family": family, "estimator": estimator, "trials": trials, "accuracy": accuracy}
        for family, estimator, trials, accuracy in (
            ("voting_ensemble", "VotingClassifier", 2, 0.95),
            ("random_forest", "RandomForestClassifier", 7, 0.94),
            ("lgbm", "LGBMClassifier", 12, 0.91),
        )
    ]
    board = {"metric": "accuracy", "exported": "voting_ensemble", "models": models}
    ws.artifacts.put_bytes(parent.id, "outputs/leaderboard.json", json.dumps(board).encode())
    frame = signals_table()
    table = check_table(frame, "label", "classification")
    ws.artifacts.put_bytes(
        parent.id, "outputs/guardrails.json", json.dumps(table.to_dict()).encode()
    )
    importance = fitted_importance(table.features, table.label)
    ws.artifacts.put_bytes(
        parent.id, "outputs/feature_importance.json", json.dumps(importance).encode()
    )
    ws.store.transition_run(parent.id, RunStatus.COMPLETED)
    return parent.id, family_ids


def signals_table() -> pd.DataFrame:
    """A label made mostly from `signal`, one class rare (imbalanced: Alerted), a column of noise
    with a few missing values (imputed: Done) and a column that is one value but for a few
    rows."""
    rng = np.random.default_rng(7)
    rows = 200
    signal = rng.normal(size=rows)
    noise = rng.normal(size=rows)
    noise[:5] = np.nan
    constant_ish = np.where(np.arange(rows) < 3, 1.0, 0.0)
    hidden = rng.normal(scale=0.6, size=rows)  # not in the table: no column predicts it alone
    label = np.where(signal + hidden > 1.3, "high", "low")
    return pd.DataFrame(
        {"signal": signal, "noise": noise, "constant_ish": constant_ish, "label": label}
    )


def fitted_importance(features: pd.DataFrame, label: pd.Series) -> dict[str, object]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from modelyard.tabular.config import PRIMARY_METRICS
    from modelyard.tabular.featurize import build_featurizer, feature_columns, model_frame
    from modelyard.tabular.importance import permutation_importance_of

    columns = feature_columns(features)
    frame = model_frame(features, columns)
    pipeline = make_pipeline(build_featurizer(columns), LogisticRegression()).fit(frame, label)
    metric = PRIMARY_METRICS["classification"]["accuracy"]
    return permutation_importance_of(pipeline, frame, label.to_numpy(), columns, metric)
