"""``python -m nn``: train, predict and info (see :mod:`nn.cli`)."""

import sys

from .cli import main

sys.exit(main())
