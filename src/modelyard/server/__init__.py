"""`modelyard server`: the REST API and the portal over one workspace.

`create_app` is imported on first use, so a client that only needs `portal_url` does not need
FastAPI installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelyard.extras import require_extra

if TYPE_CHECKING:
    from modelyard.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        require_extra("server", "the Modelyard server")
        from modelyard.server.app import create_app

        return create_app
    raise AttributeError(name)
