"""How count.py reports (a second script, so that a change to one of them shows what is shipped again)."""


def line(count: int) -> str:
    return f"words={count}"
