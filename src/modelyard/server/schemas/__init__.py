"""Request and response models of every API route, one module per resource.

The models mirror the JSON the entities' `to_dict()` write, field for field, so that the OpenAPI
document (`/openapi.json`) describes every answer exactly and the portal's typed client can be
generated from it. Routes keep building their answers with `to_dict()`; FastAPI validates them
against the route's `response_model` and serializes them in pydantic's core, except where an
answer holds thousands of runs (`common.answers`). Response models
forbid fields they do not name: an entity that grows a field without its model here fails the
server's tests at once instead of drifting from the document.

The one error body every refusal sends, and the statuses each route declares, are `errors.py`.
"""
