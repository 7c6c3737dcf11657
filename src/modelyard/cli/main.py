"""The `modelyard` command: one Typer app, a module per noun, and one error boundary."""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Any

import typer

# Typer (0.29+) carries its own Click; its usage errors are only importable from there.
from typer._click.exceptions import NoArgsIsHelpError, NoSuchOption, UsageError

from modelyard.cli import (
    automl,
    batch_score,
    component,
    compute,
    data,
    db,
    endpoint,
    experiment,
    job,
    model,
    pipeline,
    predict,
    run,
    schedule,
    server,
    sweep,
    token,
    train,
    user,
    workspace,
)
from modelyard.cli.output import console, emit_error
from modelyard.errors import ModelyardError
from modelyard.fileio import storage_error_for

USAGE_ERROR = 2  # as Click and most commands answer a mistyped command line

app = typer.Typer(
    help="Modelyard: a self-hosted machine-learning workspace.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: Rich's option panels cut long option names at 80 columns.
    rich_markup_mode=None,
    add_completion=False,
)
app.add_typer(workspace.app, name="workspace")
app.add_typer(experiment.app, name="experiment")
app.add_typer(run.app, name="run")
app.add_typer(job.app, name="job")
app.add_typer(sweep.app, name="sweep")
app.add_typer(pipeline.app, name="pipeline")
app.add_typer(compute.app, name="compute")
app.add_typer(train.app, name="train")
app.add_typer(model.app, name="model")
app.add_typer(data.app, name="data")
app.add_typer(component.app, name="component")
app.add_typer(endpoint.app, name="endpoint")
app.add_typer(schedule.app, name="schedule")
app.add_typer(db.app, name="db")
app.add_typer(token.app, name="token")
app.add_typer(user.app, name="user")
app.command("predict")(predict.predict)
app.command("batch-score")(batch_score.batch_score)
app.command("server")(server.server)
app.command("automl")(automl.automl)
app.command("deploy")(endpoint.deploy)


def installed_version() -> str:
    try:
        return metadata.version("modelyard")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        console.print(f"modelyard {installed_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="print the version and exit",
    ),
) -> None:
    """Modelyard: a self-hosted machine-learning workspace."""


def main(argv: list[str] | None = None) -> int:
    """Known errors print one line and exit 1, a mistyped command line one line and exit 2;
    only a bug prints a traceback."""
    command = typer.main.get_command(app)
    _whole_summaries(command)
    try:
        result = command.main(args=argv, prog_name="modelyard", standalone_mode=False)
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
    except NoArgsIsHelpError as error:
        error.show()  # the help of a noun given without a verb
        return 0
    except UsageError as error:
        emit_error(usage_message(error))
        return USAGE_ERROR
    except typer.Abort:  # a confirmation answered "no", or Ctrl-C
        emit_error("aborted: nothing was changed")
        return 1
    return result if isinstance(result, int) else 0


def _whole_summaries(command: Any) -> None:
    """Click cuts a command's summary in a help list to one line ("… tags,..."): give each its
    whole first paragraph instead, which the list wraps."""
    for sub in getattr(command, "commands", {}).values():
        if sub.short_help is None and sub.help:
            sub.short_help = " ".join(sub.help.split("\n\n")[0].split())
        _whole_summaries(sub)


def usage_message(error: UsageError) -> str:
    """Click's message, on one line, with the suggestion and where to find the options."""
    if isinstance(error, NoSuchOption) and error.possibilities:
        message = f"{error.message}: did you mean {' or '.join(sorted(error.possibilities))}?"
    else:
        message = " ".join(error.format_message().split()).rstrip(".")
    if error.ctx is not None:
        message += f" (see `{error.ctx.command_path} --help`)"
    return message


if __name__ == "__main__":
    sys.exit(main())
