#!/usr/bin/env python3
"""Benchmark runner written by `hadac bench`: it runs the campaign of the JSON file of the same
name, with the hadac_benchrunner.py beside it.

    python run_ALGORITHM_on_HARDWARE.py --out RESULTS.csv
        [--run-timeout SECONDS] [--scheduler tcp://HOST:PORT]

The three files stand alone: they need Python 3.11+, codecarbon, the workload's module and,
only with --scheduler, dask distributed, not hadac. `--help` says what the campaign runs.
This script is the same for every campaign, so that nothing of a spec is ever code.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve()


def main() -> int:
    """Run the campaign beside this script with this command line."""
    if str(HERE.parent) not in sys.path:
        sys.path.insert(0, str(HERE.parent))  # this one, whatever the current directory
    import hadac_benchrunner

    return hadac_benchrunner.main(HERE.with_suffix(".json"), sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
