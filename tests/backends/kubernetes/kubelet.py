"""What the kubelet does to a container's command, args and env values
before the process sees them: `$$` becomes `$`, and `$(NAME)` becomes the
value of the container's variable NAME where one is defined (otherwise it
stays as written). Tests that run a pod's script here apply it first, as the
kubelet would."""

from __future__ import annotations

import re

_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text: str, env: dict[str, str] | None = None) -> str:
    env = env or {}

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _REFERENCE.sub(one, text)
