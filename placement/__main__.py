"""``python -m placement …``: the same command line as ``placement …``."""

import sys

from placement.cli import main

if __name__ == "__main__":
    sys.exit(main())
