"""Hyperparameter sweeps (Azure ML's sweep job): a parent run whose built-in job, the driver
(`builtin_jobs/sweep.py` → `driver.py`), submits each trial as a child run queued on the sweep's
compute, reads their metrics back from the store, cancels the trials its early-termination
policy gives up on, and keeps the leaderboard on the parent.

The store is the sweep's only memory: each trial's params are recorded with its child run
before it is queued, and the driver rebuilds everything else (the sampler's history included)
from the children on every pass, so a driver that dies is resumed (`services/resume.py`) by
queueing the parent again, and no trial runs twice.

`sweep_job.py` (what is submitted), `sweep_file.py` (the YAML), `submission.py` (submit),
`trials.py` (the children as trials), `samplers.py`, `policies.py`, `leaderboard.py`,
`driver.py`.
"""
