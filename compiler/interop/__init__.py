"""Importers: other workflow descriptions translated into .mlx source.

`import_mldev` reads an MLDev experiment.yml, `import_wfformat` a WfFormat
(WfCommons) instance; both return the .mlx text with diagnostics and never
raise for a bad input. docs/interop.md describes what is translated and how."""

from .mldev import import_mldev
from .result import ImportResult
from .wfformat import SITES_FILE, import_wfformat

__all__ = ["SITES_FILE", "ImportResult", "import_mldev", "import_wfformat"]
