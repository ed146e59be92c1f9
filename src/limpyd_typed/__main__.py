"""``python -m limpyd_typed``: see cli.py."""

import sys

from .cli import main

sys.exit(main())
