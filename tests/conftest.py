"""Test-suite settings: on CI, hypothesis draws the same examples every run (reproducible failures);
on a developer's machine it explores new ones each time."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
