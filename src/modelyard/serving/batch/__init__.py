"""Batch scoring (Azure's ParallelRunStep for an image classifier): every file of a folder
scored by the no-code scorer's model in mini-batches, into one JSON line per file, resumable
after a preemption. The job's entry point is `builtin_jobs.batch_score`; this package knows
nothing of runs or the SDK."""
