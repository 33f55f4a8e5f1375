"""`losscast ...` and `python -m losscast ...`: the command line, parsed by the same clap code
as the binary's."""

import sys


def main() -> None:
    from ._native import main as run

    sys.exit(run(["losscast", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
