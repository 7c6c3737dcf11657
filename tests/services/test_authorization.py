"""Who may do what (services/authorization.py), as decisions over real runs on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelyard.compute.local.processes import this_host
from modelyard.entities import Caller, Role, RunStatus, User
from modelyard.errors import AuthError, PermissionDenied
from modelyard.services import authorization
from modelyard.services.workspaces import OpenWorkspace


def caller(name: str, role: Role, run_id: str | None = None) -> Caller:
    return Caller(User(id=name, name=name, role=role, created_at=datetime.now(UTC)), run_id)


ADMIN = caller("root", Role.ADMIN)
ANA = caller("ana", Role.CONTRIBUTOR)
RITA = caller("rita", Role.READER)


def test_roles_include_the_ones_below_and_the_refusal_names_the_fix() -> None:
    authorization.check_role(ADMIN, Role.CONTRIBUTOR)
    authorization.check_role(ANA, Role.READER)
    with pytest.raises(PermissionDenied, match="user 'rita' is a reader: this needs the"):
        authorization.check_role(RITA, Role.CONTRIBUTOR)
    with pytest.raises(PermissionDenied, match="modelyard user create NAME --role admin"):
        authorization.check_role(ANA, Role.ADMIN)


def test_a_run_is_changed_by_its_owner_or_an_admin_and_read_by_all(
    workspace: OpenWorkspace,
) -> None:
    run = workspace.store.create_run("e", user="ana").id
    for who in (ANA, ADMIN):
        authorization.check_run_access(workspace, who, run, Role.CONTRIBUTOR)
    authorization.check_run_access(workspace, RITA, run, Role.READER)
    bo = caller("bo", Role.CONTRIBUTOR)
    with pytest.raises(PermissionDenied, match="belongs to 'ana': only its owner or an admin"):
        authorization.check_run_access(workspace, bo, run, Role.CONTRIBUTOR)


def test_a_jobs_token_acts_on_its_run_only_and_only_while_it_runs(
    workspace: OpenWorkspace,
) -> None:
    own = workspace.store.create_run("e", user="ana", status=RunStatus.RUNNING).id
    other = workspace.store.create_run("e", user="ana").id
    job = caller("ana", Role.CONTRIBUTOR, run_id=own)
    authorization.check_run_access(workspace, job, own, Role.CONTRIBUTOR)
    with pytest.raises(PermissionDenied, match=f"acts on that run only, not on run {other}"):
        authorization.check_run_access(workspace, job, other, Role.READER)
    with pytest.raises(PermissionDenied, match="workspace-wide"):
        authorization.check_unscoped(job)
    workspace.store.transition_run(own, RunStatus.COMPLETED)
    with pytest.raises(AuthError, match="has ended"):
        authorization.check_run_access(workspace, job, own, Role.READER)


def test_a_jobs_token_starts_lists_and_changes_its_runs_children_and_registers_its_model(
    workspace: OpenWorkspace,
) -> None:
    own = workspace.store.create_run("e", user="ana", status=RunStatus.RUNNING).id
    other = workspace.store.create_run("e", user="ana", status=RunStatus.RUNNING).id
    child = workspace.store.create_run("e", user="ana", parent_id=own).id
    grandchild = workspace.store.create_run("e", user="ana", parent_id=child).id
    job = caller("ana", Role.CONTRIBUTOR, run_id=own)
    authorization.check_may_start_run(workspace, job, own, "e")
    authorization.check_may_list_runs(workspace, job, own)
    authorization.check_run_access(workspace, job, child, Role.CONTRIBUTOR)
    authorization.check_may_register_model(job, own)
    for refused in (
        lambda: authorization.check_may_start_run(workspace, job, None, "e"),
        lambda: authorization.check_may_start_run(workspace, job, other, "e"),
        lambda: authorization.check_may_list_runs(workspace, job, None),
        lambda: authorization.check_run_access(workspace, job, grandchild, Role.READER),
        lambda: authorization.check_run_access(workspace, job, "no-such-run", Role.READER),
        lambda: authorization.check_may_register_model(job, other),
        lambda: authorization.check_may_register_model(job, None),
    ):
        with pytest.raises(PermissionDenied, match="acts on that run only"):
            refused()
    with pytest.raises(PermissionDenied, match="whose children go in its experiment 'e', not"):
        authorization.check_may_start_run(workspace, job, own, "elsewhere")
    authorization.check_may_start_run(workspace, ANA, own, "elsewhere")  # the owner's choice
    authorization.check_may_register_model(ANA, None)  # anyone's own registration
    with pytest.raises(PermissionDenied, match="reader"):
        authorization.check_may_register_model(RITA, None)
    workspace.store.transition_run(own, RunStatus.COMPLETED)
    with pytest.raises(AuthError, match="has ended"):
        authorization.check_run_access(workspace, job, child, Role.READER)


def test_deleting_others_work_needs_an_admin(workspace: OpenWorkspace) -> None:
    workspace.store.create_run("mine", user="ana")
    workspace.store.create_run("mixed", user="ana")
    workspace.store.create_run("mixed", user="bo")
    authorization.check_may_delete_experiment(workspace, ANA, "mine")
    authorization.check_may_delete_experiment(workspace, ADMIN, "mixed")
    with pytest.raises(PermissionDenied, match="holds runs of 'bo': only an admin"):
        authorization.check_may_delete_experiment(workspace, ANA, "mixed")
    with pytest.raises(PermissionDenied):
        authorization.check_may_delete_experiment(workspace, RITA, "mine")


def test_others_runs_past_the_newest_page_still_keep_a_contributor_from_deleting(
    sqlite_workspace: OpenWorkspace,
) -> None:
    ws = sqlite_workspace
    ws.store.create_run("crowded", user="bo")  # the oldest run, behind 1,000 newer ones
    for _ in range(1000):
        ws.store.create_run("crowded", user="ana")
    with pytest.raises(PermissionDenied, match="holds runs of 'bo'"):
        authorization.check_may_delete_experiment(ws, ANA, "crowded")


def test_tokens_are_their_users_own(workspace: OpenWorkspace) -> None:
    authorization.check_may_manage_tokens_of(RITA, "rita")
    authorization.check_may_manage_tokens_of(ADMIN, "rita")
    with pytest.raises(PermissionDenied, match="the tokens of 'ana' are theirs"):
        authorization.check_may_manage_tokens_of(RITA, "ana")


def test_a_process_here_is_claimed_for_a_computed_run_by_an_admin_only(
    workspace: OpenWorkspace,
) -> None:
    interactive = workspace.store.create_run("e", user="ana").id
    computed = workspace.store.create_run("e", user="ana", compute_target="local").id
    authorization.check_may_claim_process(workspace, ANA, interactive, this_host())
    authorization.check_may_claim_process(workspace, ANA, computed, "laptop.example")
    authorization.check_may_claim_process(workspace, ADMIN, computed, this_host())
    with pytest.raises(PermissionDenied, match="by an admin only"):
        authorization.check_may_claim_process(workspace, ANA, computed, this_host())
