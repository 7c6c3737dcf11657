"""The package's version, in a module of its own: anything may read it without importing the SDK
(pyproject.toml reads it from here too, so it is written once)."""

__version__ = "0.1.0"
