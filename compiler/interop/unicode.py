"""Text decoded from escapes in YAML or JSON (`"\\ud83d\\ude00"`) can hold
UTF-16 surrogate halves, which no UTF-8 file or terminal accepts: the
generated .mlx and the diagnostics would fail to print."""

from __future__ import annotations

import re

# A JSON or YAML escape of a surrogate half, for a cheap test before a full pass.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def join_surrogates(text: str) -> str:
    """Each surrogate pair joined into its character; a half left alone
    becomes U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
