"""Who may do what: Azure's three roles, a run's owner, and a job's token scoped to its run.

The rules, written once:
- a **reader** reads: experiments, runs, metrics, logs, artifacts;
- a **contributor** also creates experiments (they are shared), runs and jobs, and changes the
  runs they started: logs to them, uploads to them, ends or cancels them;
- an **admin** may do anything: others' runs, deleting experiments that hold others' runs,
  users, and anyone's tokens; every user may create, list and revoke their own tokens;
- a **job's token** (scoped to one run), only until its run has ended: reads and changes that
  run and every direct child of it (whoever started the child: AutoML's trials on a Ray node,
  a sweep's trials, a pipeline's steps; not their children), lists those children, starts
  child runs of its run in its run's experiment (no other: that would create an experiment),
  and registers a model version with its own run as the lineage, under any model name (a new
  model or a new version of an existing one: what the user's job code names it, as
  `register_model` steps do), nothing else workspace-wide;
- a process on the server's own machine may be claimed over the API for a run with a compute
  target (whose process cancel and the reaper stop) by an admin only: anyone else could make
  the server kill a process of their choosing. The server's own jobs record theirs directly;
  an interactive run's process (no compute target) is only watched, never stopped.

The caller always comes from the token (`services.auth.authenticate`), never from a request body.
"""

from __future__ import annotations

from modelyard.compute.local.processes import this_host
from modelyard.entities import Caller, Role
from modelyard.entities.data import parse_data_reference
from modelyard.errors import AuthError, NotFound, PermissionDenied
from modelyard.services import data
from modelyard.services.workspaces import OpenWorkspace

_EVERY_RUN = 2**62  # a LIMIT no experiment reaches


def check_role(caller: Caller, required: Role) -> None:
    if not caller.role.includes(required):
        raise PermissionDenied(
            f"user {caller.name!r} is a {caller.role.value}: this needs the {required.value}"
            " role; ask an admin (`modelyard user create NAME --role"
            f" {required.value}` makes a user with it)",
            user=caller.name,
            role=caller.role.value,
            required=required.value,
        )


def check_unscoped(caller: Caller) -> None:
    """A job's token may touch its own run (and its direct children) only: nothing
    workspace-wide."""
    if caller.run_id is not None:
        raise _outside_scope(caller, "this workspace-wide route")


def check_run_access(ws: OpenWorkspace, caller: Caller, run_id: str, required: Role) -> None:
    """May `caller` do, on run `run_id`, what needs `required`?"""
    if not run_access_needs_store(caller, run_id, required):
        return
    if caller.run_id is not None:
        _check_scoped_run(ws, caller, run_id)
        return
    owner = ws.store.get_run(run_id).user
    if owner != caller.name:
        raise PermissionDenied(
            f"run {run_id} belongs to {owner!r}: only its owner or an admin may change it;"
            " start a run of your own, or ask an admin",
            run_id=run_id,
            user=caller.name,
            owner=owner,
        )


def run_access_needs_store(caller: Caller, run_id: str, required: Role) -> bool:
    """What `check_run_access` can say without reading the run: refused (raised), allowed
    (False), or to be decided by the run's owner or status (True). A server answers the first
    two without handing the request to a worker thread."""
    check_role(caller, required)
    if caller.run_id is not None:
        # Its run's status (a job's token works only while its run runs), and for another
        # run whether that is a child of its run.
        return True
    return not (required is Role.READER or caller.role is Role.ADMIN)


def check_may_start_run(
    ws: OpenWorkspace, caller: Caller, parent_id: str | None, experiment: str
) -> None:
    """A contributor starts runs (a child joins its parent's work: the parent's rules); a
    job's token starts only direct children of its own run, in its run's experiment (another
    name would create an experiment: workspace-wide), while that run runs."""
    if caller.run_id is not None and parent_id != caller.run_id:
        raise _outside_scope(caller, "a run that is not a child of it")
    check_role(caller, Role.CONTRIBUTOR)
    if parent_id is None:
        return
    check_run_access(ws, caller, parent_id, Role.CONTRIBUTOR)
    if caller.run_id is not None:
        _check_in_parents_experiment(ws, caller.run_id, experiment)


def _check_in_parents_experiment(ws: OpenWorkspace, parent_id: str, experiment: str) -> None:
    own = ws.store.get_run(parent_id).experiment_name
    if experiment != own:
        raise PermissionDenied(
            f"this token belongs to the job of run {parent_id}, whose children go in its"
            f" experiment {own!r}, not in {experiment!r}: start the child run in {own!r},"
            " or use a personal token (`modelyard token create NAME`)",
            run_id=parent_id,
            experiment=experiment,
        )


def check_may_register_model(caller: Caller, lineage_run: str | None) -> None:
    """A contributor registers models; a job's token only a version its own run made (its
    lineage), as a training script on a Ray node registers what it trained. The model's name
    is the job's code's choice: any name, an existing model's included."""
    if caller.run_id is not None and lineage_run != caller.run_id:
        raise _outside_scope(caller, "a model version that another run made")
    check_role(caller, Role.CONTRIBUTOR)


def check_may_list_runs(ws: OpenWorkspace, caller: Caller, parent_id: str | None) -> None:
    """A reader lists any runs; a job's token the children of its own run, while it runs."""
    if caller.run_id is None:
        check_role(caller, Role.READER)
        return
    if parent_id != caller.run_id:
        raise _outside_scope(caller, "runs that are not children of it")
    check_run_access(ws, caller, parent_id, Role.READER)


def check_may_claim_process(ws: OpenWorkspace, caller: Caller, run_id: str, host: str) -> None:
    if caller.role is Role.ADMIN or host.strip().lower() != this_host().lower():
        return
    run = ws.store.get_run(run_id)
    if run.compute_target is not None:
        raise PermissionDenied(
            f"a process on the server's machine ({host}) may be recorded for run {run_id} of"
            f" compute {run.compute_target!r} by an admin only: the server would stop it on"
            " cancel; submit the job instead (`modelyard job submit`)",
            host=host,
            user=caller.name,
        )


def check_may_requeue(caller: Caller, run_id: str) -> None:
    """Only a run's own job knows that its preempted attempt has stopped: its token (or an
    admin) puts the run back in the queue; its owner waits for the job to stop."""
    if caller.run_id == run_id or (caller.run_id is None and caller.role is Role.ADMIN):
        return
    raise PermissionDenied(
        f"run {run_id} goes back to the queue when its job has stopped, which only its job's"
        " token (or an admin) may say: wait for the job to stop; the server requeues it then",
        run_id=run_id,
        user=caller.name,
    )


def check_may_manage_tokens_of(caller: Caller, user_name: str) -> None:
    """Anyone's own tokens; others' only as an admin (a job's token manages none)."""
    check_unscoped(caller)
    if user_name != caller.name and caller.role is not Role.ADMIN:
        raise PermissionDenied(
            f"the tokens of {user_name!r} are theirs: only an admin may create, list or revoke"
            " another user's tokens",
            user=caller.name,
            owner=user_name,
        )


def check_may_delete_experiment(ws: OpenWorkspace, caller: Caller, name: str) -> None:
    """A contributor may delete an experiment that holds only their own runs."""
    check_unscoped(caller)
    check_role(caller, Role.CONTRIBUTOR)
    if caller.role is Role.ADMIN:
        return
    # Every run, not a page: past the newest page, others' runs must still count.
    runs = ws.store.list_runs(name, limit=_EVERY_RUN)
    others = sorted({run.user for run in runs if run.user != caller.name})
    if others:
        raise PermissionDenied(
            f"experiment {name!r} holds runs of {', '.join(map(repr, others))}: only an admin"
            " may delete others' work",
            experiment=name,
            user=caller.name,
        )


def _check_scoped_run(ws: OpenWorkspace, caller: Caller, run_id: str) -> None:
    """Its own run or a direct child of it, while its own run runs."""
    own = caller.run_id
    assert own is not None
    if run_id != own and _parent_of(ws, run_id) != own:
        raise _outside_scope(caller, f"run {run_id}")
    run = ws.store.get_run(own)
    if run.status.is_terminal:
        raise AuthError(
            f"this job's token was for run {own}, which has ended ({run.status.value}):"
            " a job's token works only while its run runs",
            run_id=own,
        )


def _parent_of(ws: OpenWorkspace, run_id: str) -> str | None:
    try:
        return ws.store.get_run(run_id).parent_id
    except NotFound:  # outside its scope, whether it exists or not
        return None


def _outside_scope(caller: Caller, what: str) -> PermissionDenied:
    return PermissionDenied(
        f"this token belongs to the job of run {caller.run_id} and acts on that run only, not"
        f" on {what}: use a personal token (`modelyard token create NAME`)",
        run_id=caller.run_id,
    )


def check_may_archive_data(ws: OpenWorkspace, caller: Caller, reference: str) -> None:
    """A contributor may archive or restore what they created (a version, or an asset all of
    whose versions are theirs); an admin anything."""
    check_unscoped(caller)
    check_role(caller, Role.CONTRIBUTOR)
    if caller.role is Role.ADMIN:
        return
    parsed = parse_data_reference(reference)
    if parsed.version is not None:
        creators = {data.get_data_version(ws, parsed).created_by}
    else:
        creators = {v.created_by for v in data.list_versions(ws, parsed.name, True)}
    others = sorted(creators - {caller.name})
    if others:
        raise PermissionDenied(
            f"data {reference!r} was created by {', '.join(map(repr, others))}: only its"
            " creator or an admin may archive or restore it",
            reference=reference,
            user=caller.name,
        )


def check_schedule_owner(ws: OpenWorkspace, caller: Caller, name: str) -> None:
    """A contributor changes the schedules they created; an admin any."""
    check_role(caller, Role.CONTRIBUTOR)
    if caller.role is Role.ADMIN:
        return
    owner = ws.schedule_store.get_schedule(name).created_by
    if owner != caller.name:
        raise PermissionDenied(
            f"schedule {name!r} belongs to {owner!r}: only its creator or an admin may change"
            " it; create a schedule of your own, or ask an admin",
            schedule=name,
            user=caller.name,
            owner=owner,
        )
