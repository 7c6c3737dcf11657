"""`modelyard server`: the REST API (and, next, the portal) over one workspace."""

from modelyard.server.app import create_app

__all__ = ["create_app"]
