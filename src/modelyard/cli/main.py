"""The `modelyard` command: one Typer app, a module per noun, and one error boundary."""

from __future__ import annotations

import sys

import typer

from modelyard.cli import db, experiment, job, predict, run, server, token, train, user, workspace
from modelyard.cli.output import emit_error
from modelyard.errors import ModelyardError
from modelyard.fileio import storage_error_for

app = typer.Typer(
    help="Modelyard: a self-hosted machine-learning workspace.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(workspace.app, name="workspace")
app.add_typer(experiment.app, name="experiment")
app.add_typer(run.app, name="run")
app.add_typer(job.app, name="job")
app.add_typer(train.app, name="train")
app.add_typer(db.app, name="db")
app.add_typer(token.app, name="token")
app.add_typer(user.app, name="user")
app.command("predict")(predict.predict)
app.command("server")(server.server)


def main(argv: list[str] | None = None) -> int:
    """Known errors print one line and exit 1; only a bug prints a traceback."""
    try:
        app(args=argv, prog_name="modelyard")
    except ModelyardError as error:
        emit_error(error.message)
        return 1
    except OSError as error:
        # A disk's refusal (full, read-only, not ours) is the machine's state, not a bug; the
        # writes it interrupted were atomic, so nothing was half-written.
        refusal = storage_error_for(error, error.filename or "a workspace file")
        if refusal is None:
            raise
        emit_error(refusal.message)
        return 1
    except SystemExit as done:  # Typer's own exits: --help, usage errors, typer.Exit.
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
