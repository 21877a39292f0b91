"""`python -m evaluation SET ...`: the same as `qa eval SET ...`."""

from __future__ import annotations

import sys

from qa.cli import main

if __name__ == "__main__":
    sys.exit(main(["eval", *sys.argv[1:]]))
