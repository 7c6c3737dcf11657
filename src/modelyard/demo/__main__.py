"""`make demo`: an embedded workspace here, the sample script as a job on local compute."""

from __future__ import annotations

import sys

from modelyard.demo.run_demo import main

sys.exit(main())
