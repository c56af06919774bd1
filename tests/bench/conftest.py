import sys
from pathlib import Path

# bench/ is a folder of scripts, not an installed package: its modules
# (run.py, suite/, wfformat_gen.py) import each other from there.
BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
