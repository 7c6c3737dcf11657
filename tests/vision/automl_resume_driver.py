"""The AutoML-for-images job, paused at a chosen epoch of its candidates until it is asked to
stop: resume_driver.py's pause around `modelyard.builtin_jobs.automl_images.main`.

    python automl_resume_driver.py epoch:N MARKER JOB_ARGUMENT…
"""

from __future__ import annotations

import sys

import resume_driver

from modelyard.builtin_jobs import automl_images

if __name__ == "__main__":
    sys.exit(resume_driver.main(sys.argv[1:], automl_images.main))
