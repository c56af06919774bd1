"""Run mlc's command line in a child Python where scipy cannot be imported,
as on a machine without the `exact` extra, whatever this one has."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

# A meta-path finder ahead of all others: `import scipy` fails as if it were
# not installed.
BLOCK_SCIPY = """
import sys

class _NoScipy:
    def find_spec(self, name, path=None, target=None):
        if name == "scipy" or name.startswith("scipy."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoScipy())
"""

# Fail loudly if scipy cannot be imported, so that the "with scipy" run
# really has it (and has it imported before anything is placed).
REQUIRE_SCIPY = "import scipy.optimize\n"

RUN_CLI = """
from compiler.cli import main
for argv in {commands!r}:
    status = main(argv)
    if status:
        sys.exit(status)
"""


def mlc(commands: list[list[str]], scipy: bool, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run each `mlc` command line in one child process, cwd = the checkout."""
    prelude = "import sys\n" + (REQUIRE_SCIPY if scipy else BLOCK_SCIPY)
    script = prelude + RUN_CLI.format(commands=commands)
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)
