"""``python -m fastsgd.bench``: the ``fastsgd bench`` command."""

import sys

from .command import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
