"""A step's job as it is staged: its code, a folder per folder output, and, for a compute
whose jobs run on other machines, its data inputs carried in its snapshot (where the
command names them: `carried_inputs`, as a job file's inputs are carried)."""

from __future__ import annotations

from pathlib import Path

from modelyard.services.job_inputs import carried_inputs
from modelyard.services.pipelines.steps import StepJob


def test_a_step_snapshot_holds_its_output_folders_and_carried_inputs(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "run.py").write_text("print('hi')\n")
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "a.txt").write_text("1")
    single = tmp_path / "rows.csv"
    single.write_text("x\n")
    named, carried = carried_inputs({"raw": data, "rows": single})
    assert named == {"raw": "inputs/raw", "rows": "inputs/rows/rows.csv"}
    job = StepJob(
        experiment="pipe",
        source_directory=code,
        script="run.py",
        output_folders=("model",),
        input_files=carried,
    )
    snapshot = tmp_path / "snapshot"
    job.stage(snapshot)
    assert (snapshot / "run.py").read_text() == "print('hi')\n"
    assert (snapshot / "outputs" / "model").is_dir()
    assert (snapshot / named["raw"] / "sub" / "a.txt").read_text() == "1"
    assert (snapshot / named["rows"]).read_text() == "x\n"
    assert job.describe_source().script == "run.py"
