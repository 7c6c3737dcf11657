"""Every size limit Modelyard enforces, published in one place (the README lists them too).

Limits are checked before anything is written, so a refused call leaves nothing behind.
"""

from __future__ import annotations

from typing import Final

WORKSPACE_NAME_MIN: Final = 3
WORKSPACE_NAME_MAX: Final = 33
COMPUTE_NAME_MIN: Final = 2
COMPUTE_NAME_MAX: Final = 16
EXPERIMENT_NAME_MAX: Final = 255
RUN_DISPLAY_NAME_MAX: Final = 255
USER_NAME_MAX: Final = 64
TOKEN_NAME_MAX: Final = 64
MODEL_NAME_MAX: Final = 255  # Azure ML's limit for a model's name
MODEL_ALIAS_MAX: Final = 64
MODEL_DESCRIPTION_MAX: Final = 5000
MODEL_FILES_MAX: Final = 10_000  # files in one model version
MODEL_SCHEMA_MAX: Final = 1_000_000  # an input or output schema, as JSON text
DATA_NAME_MAX: Final = 255  # Azure ML's limit for a data asset's name
DATA_DESCRIPTION_MAX: Final = 5000
COMPONENT_NAME_MAX: Final = 255  # Azure ML's limit for a component's name
DATA_FILES_MAX: Final = 1_000_000  # files in one data asset version
PUBLISHED_PIPELINE_NAME_MAX: Final = 255
PUBLISHED_PIPELINE_DESCRIPTION_MAX: Final = 5000
ID_MAX: Final = 32  # run, experiment, user and token ids
HOST_NAME_MAX: Final = 255
RUN_ERROR_MAX: Final = 65_536  # a longer reason keeps its start and end
ARGUMENTS_MAX: Final = 1000  # a job's script arguments...
ARGUMENT_MAX: Final = 32_768  # ...and the length of each

# Numbers as their database columns hold them: a bad one is refused, never an overflow.
PID_MAX: Final = 2**31 - 1  # a 32-bit INTEGER column
STEP_MAX: Final = 2**63 - 1  # a BIGINT column
TIMESTAMP_MAX: Final = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds
OFFSET_MAX: Final = 2**62  # a byte offset into a log, a row offset into a table

METRIC_NAME_MAX: Final = 250
PARAM_KEY_MAX: Final = 250
PARAM_VALUE_MAX: Final = 6000
TAG_KEY_MAX: Final = 250
TAG_VALUE_MAX: Final = 5000
PROPERTY_KEY_MAX: Final = 250
PROPERTY_VALUE_MAX: Final = 5000

METRICS_PER_BATCH_MAX: Final = 1000
PARAMS_PER_BATCH_MAX: Final = 100
TAGS_PER_BATCH_MAX: Final = 100

ARTIFACT_PATH_MAX: Final = 1024
SNAPSHOT_FILES_MAX: Final = 2000
SNAPSHOT_BYTES_MAX: Final = 300 * 1024 * 1024

# Image-classification data (the guardrails) and images.
IMAGE_CLASSES_MIN: Final = 2
IMAGES_PER_CLASS_MIN: Final = 2
IMAGES_PER_CLASS_FEW: Final = 10
BAD_IMAGE_FILES_PERCENT_MAX: Final = 10
CLASS_IMBALANCE_RATIO_MAX: Final = 10
IMAGE_PIXELS_MAX: Final = 100_000_000  # 10,000 x 10,000; decoded as RGB that is 300 MB


def describe() -> dict[str, int]:
    """The limits as a table, for the README and `modelyard limits`."""
    return {name.lower(): value for name, value in globals().items() if name.isupper()}
