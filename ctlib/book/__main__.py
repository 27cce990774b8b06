"""``python -m ctlib.book``: the ``ctlib book`` command."""
import sys

from ctlib.book import main

sys.exit(main())
