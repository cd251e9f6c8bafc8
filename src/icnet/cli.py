"""The ``icnet`` command line (filled in by the CLI work; see ``icnet --help``)."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    """Entry point of the ``icnet`` command."""
    import icnet

    parser = argparse.ArgumentParser(prog="icnet", description=icnet.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"icnet {icnet.__version__}")
    parser.parse_args(argv)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
