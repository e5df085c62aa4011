"""``python -m fastsgd``: the ``fastsgd`` command (see :mod:`fastsgd.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
