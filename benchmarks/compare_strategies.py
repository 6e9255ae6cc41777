"""Compare sync strategies (lockstep, fixed 1/5/10 ms, original, event) on one experiment.

    python benchmarks/compare_strategies.py examples/demo.toml --out bench-out/demo
    python benchmarks/compare_strategies.py \
        examples/long_tstop_allbranch_cpm_two_branches_stims_20_Hz.toml --duration 5000

Prints a markdown table and writes OUT/strategies.csv, OUT/strategies.md and
OUT/error_vs_cost.png (the same as `timescales bench`).
"""

import sys

from timescales.experiment.bench import main

if __name__ == "__main__":
    sys.exit(main())
