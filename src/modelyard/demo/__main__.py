"""`make demo`: digits → EfficientNet-Lite0 image classification in an embedded workspace."""

from __future__ import annotations

import sys

from modelyard.cli.output import emit_error
from modelyard.errors import MissingExtra
from modelyard.extras import require_extra

try:
    require_extra("vision", "the demo")
    require_extra("demo", "the demo's data set")
except MissingExtra as error:
    emit_error(error.message)
    sys.exit(1)

from modelyard.demo.run_demo import main  # imported once the extras it uses are known here

sys.exit(main())
