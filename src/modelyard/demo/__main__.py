"""`make demo`: digits → EfficientNet-Lite0 image classification in an embedded workspace."""

from __future__ import annotations

import sys

from modelyard.demo.run_demo import main

sys.exit(main())
