"""Environments: the current interpreter, or a venv built once per spec hash and cached."""

from modelyard.environments.builder import EnvironmentBuilder
from modelyard.environments.spec import Environment

__all__ = ["Environment", "EnvironmentBuilder"]
