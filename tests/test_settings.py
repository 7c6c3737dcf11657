"""Settings precedence: flag > environment > workspace config > user config > default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelyard.errors import InvalidValue
from modelyard.settings import Settings


def test_defaults() -> None:
    settings = Settings.resolve(environ={}, user_config={})
    assert settings.heartbeat_interval_s == 5.0 and settings.metric_flush_size == 1000


def test_each_layer_overrides_the_one_below() -> None:
    user = {
        "cancel_grace_s": 1,
        "poll_interval_s": 1,
        "heartbeat_timeout_s": 1,
        "metric_flush_size": 1,
    }
    workspace = {"poll_interval_s": 2, "heartbeat_timeout_s": 2, "metric_flush_size": 2}
    environ = {"MODELYARD_HEARTBEAT_TIMEOUT_S": "3", "MODELYARD_METRIC_FLUSH_SIZE": "3"}
    flags = {"metric_flush_size": 4, "poll_interval_s": None}
    settings = Settings.resolve(
        flags=flags, workspace_config=workspace, environ=environ, user_config=user
    )
    assert settings.cancel_grace_s == 1.0  # user config
    assert settings.poll_interval_s == 2.0  # workspace config (the flag was not given)
    assert settings.heartbeat_timeout_s == 3.0  # environment
    assert settings.metric_flush_size == 4  # flag
    assert isinstance(settings.metric_flush_size, int)


@pytest.mark.parametrize("raw", ["fast", "-1"])
def test_bad_values_name_the_setting_and_where_it_came_from(raw: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        Settings.resolve(environ={"MODELYARD_CANCEL_GRACE_S": raw}, user_config={})
    assert "cancel_grace_s" in caught.value.message and "environment" in caught.value.message
    assert repr(raw) in caught.value.message


def test_user_config_file_is_read_from_modelyard_home(modelyard_home: Path) -> None:
    (modelyard_home / "config.json").write_text(json.dumps({"settings": {"cancel_grace_s": 7}}))
    assert Settings.resolve(environ={}).cancel_grace_s == 7.0
    (modelyard_home / "config.json").write_text("{not json")
    with pytest.raises(InvalidValue, match="cannot read user config"):
        Settings.resolve(environ={})
