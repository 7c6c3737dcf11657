"""`modelyard server`: serve one workspace's REST API on this machine."""

from __future__ import annotations

import gc
import ipaddress
import socket
from contextlib import closing

import typer

from modelyard.cli.common import WorkspaceOption
from modelyard.cli.output import console, errors
from modelyard.errors import InvalidValue
from modelyard.extras import require_extra
from modelyard.services import portal_links
from modelyard.services.remote import normalized_server_url
from modelyard.services.workspaces import open_workspace, resolve_workspace_root

DEFAULT_PORT = portal_links.DEFAULT_PORT
_WILDCARD_BINDS = ("0.0.0.0", "::", "")
GRACEFUL_SHUTDOWN_S = 5


def server(
    workspace: str | None = WorkspaceOption,
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535),
    no_auth: bool = typer.Option(
        False, "--no-auth", help="no tokens: allowed on 127.0.0.1 only, for local experiments"
    ),
    allowed_host: list[str] = typer.Option(
        [],
        "--allowed-host",
        help="a host name clients reach the server by (repeat for more); the loopback names"
        " and --host are always allowed (also MODELYARD_ALLOWED_HOSTS)",
    ),
    advertised_url: str | None = typer.Option(
        None,
        "--advertised-url",
        help="the URL jobs on other machines (Ray) use to reach this server (default:"
        " http://HOST:PORT, this machine's name for 0.0.0.0; also MODELYARD_ADVERTISED_URL)",
    ),
) -> None:
    """Serve the workspace over REST (OpenAPI at /docs); every route needs an API token."""
    require_extra("server", "modelyard server")
    import uvicorn

    from modelyard.server import create_app
    from modelyard.server.memory import limit_malloc_arenas
    from modelyard.services import auth
    from modelyard.serving.http_protocol import uvicorn_options

    if no_auth and not _is_loopback(host):
        raise InvalidValue(
            f"--no-auth with --host {host} would open the workspace to the network: drop"
            " --no-auth, or listen on 127.0.0.1",
            host=host,
        )
    flags = {
        "allowed_hosts": ",".join(allowed_host) if allowed_host else None,
        "advertised_url": advertised_url,
    }
    with closing(open_workspace(resolve_workspace_root(workspace), flags=flags)) as ws:
        # Where jobs away from this disk report (and what lets a Ray compute be created).
        ws.served_at = _advertised_url(ws.settings.advertised_url, host, port)
        if no_auth:
            errors.print(
                "[bold red]WARNING: authentication is OFF.[/] Anyone who can reach"
                f" {host}:{port} can read and change workspace {ws.workspace.name!r}."
            )
        else:
            token = auth.ensure_admin(ws)
            if token is not None:
                console.print(
                    "Created the admin API token (shown once, stored with mode 0600 in"
                    f" {ws.root / 'credentials.json'}):\n  {token}"
                )
        url = f"http://{_url_host(host)}:{port}"
        portal = f"{url}{portal_links.APP_PATH}/"
        console.print(f"Serving workspace {ws.workspace.name!r} on {url} (portal: {portal})")
        if ws.served_at != url:
            console.print(f"Jobs on other machines reach it at {ws.served_at}")
        limit_malloc_arenas()  # before the worker threads exist (server/memory.py says why)
        app = create_app(ws, auth=not no_auth, bind_host=host)
        # What start-up built lives as long as the server: out of the collector's way, each
        # full collection no longer walks it (a request of 1,000 points makes thousands of
        # objects, so collections are frequent).
        gc.freeze()
        with portal_links.serving(ws, url):
            uvicorn.run(
                app,
                host=host,
                port=port,
                log_level="info",
                # Live log streams of running jobs never end by themselves: cut them at shutdown.
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
                # httptools and uvloop when installed, a deadline for headers either way.
                **uvicorn_options(ws.settings.request_header_timeout_s),
            )


def _advertised_url(configured: str, host: str, port: int) -> str:
    """The URL jobs on other machines use: the setting, else the bind's address, with this
    machine's name for a wildcard bind (its loopback address would point them at themselves)."""
    if configured:
        return normalized_server_url(configured)
    if host in _WILDCARD_BINDS:
        return f"http://{socket.getfqdn()}:{port}"
    return f"http://{_url_host(host)}:{port}"


def _url_host(host: str) -> str:
    """How a client on this machine reaches the server: a wildcard bind is reached locally."""
    if host in _WILDCARD_BINDS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
