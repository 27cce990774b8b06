"""``python -m ctlib.cli``: the ``ctlib`` command (the campaign script runs it this way)."""
import sys

from ctlib.cli import main

sys.exit(main())
