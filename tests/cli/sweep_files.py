"""The sweep files of the CLI's sweep tests, local and through a server: a trial script that
logs `accuracy` (best at lr 0.1), and a three-trial random sweep over it."""

from __future__ import annotations

TRAIN = """
import argparse, time
from modelyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float)
parser.add_argument("--pause", type=float, default=0.0)
options = parser.parse_args()
run = Run.get_context()
for step in range(2):
    run.log("accuracy", 1 - (options.lr - 0.1) ** 2)
    time.sleep(options.pause)
"""

SWEEP = """
type: sweep
experiment_name: tune
sampling_algorithm: {type: random, seed: 4}
search_space:
  lr: {type: uniform, min_value: 0.0, max_value: 0.3}
objective: {primary_metric: accuracy, goal: maximize}
limits: {max_total_trials: 3, max_concurrent_trials: 2}
trial:
  code: .
  command: python train.py --lr ${{search_space.lr}}
"""

# One trial at a time, each pausing: time to stop the sweep between its trials.
ONE_SLOW_TRIAL_AT_A_TIME = SWEEP.replace(
    "max_concurrent_trials: 2", "max_concurrent_trials: 1"
).replace("--lr ${{search_space.lr}}", "--lr ${{search_space.lr}} --pause 0.5")
