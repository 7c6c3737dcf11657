"""Pipelines (Azure ML's pipeline job): a parent run whose built-in job, the driver
(`builtin_jobs/pipeline.py` → `driver.py`), submits each step as a child run queued on the
step's compute, in the order of the steps' ports, independent steps at once.

Before a step is submitted, its reuse key (`entities/pipelines.ReuseKey`: code snapshot,
environment, parameters, input content) is looked up in the pipeline store (`pipeline_steps`,
migration 0015): an earlier completed run with that key stands for the step, recorded as a
child that reused its outputs; otherwise the child records why it ran (`reuse.py`).

As with sweeps, the store is the driver's only memory: each step's name is a property of its
child run, recorded before it is queued, so a driver that dies is resumed
(`services/resume.py`) by queueing the parent again, and no completed step runs twice.

`pipeline_job.py` (what is submitted), `pipeline_file.py` (the YAML), `submission.py`
(submit, rerun), `steps.py` (a step's job and its child runs), `reuse.py`, `driver.py`,
`status.py` (the steps of a pipeline run, for `pipeline show`).
"""
