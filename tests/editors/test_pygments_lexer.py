"""The Pygments lexer (compiler/editors/pygments_lexer.py), found the way
Pygments finds it: through the `pygments.lexers` entry point."""

import subprocess
import sys
from pathlib import Path

import pytest
from editor_tooling import REPO, lark_keywords
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, String

from compiler.editors.pygments_lexer import MlxLexer

EXAMPLES = sorted(REPO.glob("examples/**/*.mlx"))
SHOWCASE = Path(__file__).parent / "samples" / "showcase.mlx"


def tokens(text: str) -> list[tuple]:
    return [(token_type, value) for token_type, value in MlxLexer().get_tokens(text) if value.strip()]


def test_pygments_finds_the_lexer_by_name_and_by_file_name():
    assert isinstance(get_lexer_by_name("mlx"), MlxLexer)
    assert isinstance(get_lexer_for_filename("experiments/rtmdet.mlx"), MlxLexer)


def test_pygmentize_highlights_an_example():
    completed = subprocess.run(
        [sys.executable, "-m", "pygments", "-l", "mlx", "-f", "html", str(REPO / "examples" / "rtmdet.mlx")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert '<span class="kd">stage</span>' in completed.stdout


@pytest.mark.parametrize("path", [*EXAMPLES, SHOWCASE], ids=lambda path: str(path.relative_to(REPO)))
def test_no_error_token(path):
    errors = [value for token_type, value in tokens(path.read_text()) if token_type in Error]
    assert errors == []


@pytest.mark.parametrize("path", [*EXAMPLES, SHOWCASE], ids=lambda path: str(path.relative_to(REPO)))
def test_lexing_loses_no_text(path):
    text = path.read_text()
    assert "".join(value for _, value in MlxLexer().get_tokens(text)) == text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("stage greet {}", [(Keyword.Declaration, "stage"), (Name.Function, "greet")]),
        ("template Greet(who: str) : stage {}", [(Name.Class, "Greet"), (Name.Variable, "who"), (Keyword.Type, "str")]),
        ("site box : local {}", [(Name.Class, "box"), (Name.Builtin, "local")]),
        ("x = { memory = 768GiB }", [(Number, "768"), (Keyword.Type, "GiB")]),
        ("x = { price = 1.2/h }", [(Number, "1.2"), (Keyword.Type, "/h")]),
        ("x = { gpus = 4 x a100 }", [(Number, "4"), (Keyword, "x"), (Name, "a100")]),
        ("x = { in data = a.b }", [(Keyword, "in"), (Name.Attribute, "data")]),
        ("stage s for lr in [1] {}", [(Keyword, "for"), (Name.Variable, "lr"), (Keyword, "in")]),
        ("stage s for (lr, bs) in zip(a, b) {}",
         [(Name.Variable, "lr"), (Name.Variable, "bs"), (Keyword, "in"), (Name.Function, "zip")]),
        ("stage s for i in range(4) {}", [(Name.Variable, "i"), (Name.Function, "range")]),
        ("x = { in c = train[lr = lr].ckpt }", [(Name, "train"), (Name.Attribute, "lr"), (Name, "ckpt")]),
        ('x = { run = "a $$b ${in.c}" }', [(String.Escape, "$$"), (String.Interpol, "${"), (Keyword, "in")]),
        ('x = { run = "a \\" b" }', [(String.Escape, '\\"')]),
        ("// note", [(Comment.Single, "// note")]),
        ("@", [(Error, "@")]),
    ],
)
def test_token_types(source, expected):
    produced = tokens(source)
    for token in expected:
        assert token in produced, produced


def test_long_string_keeps_backslashes_and_spans_lines():
    produced = tokens('x = { run = """\n  a \\\n  b ${c}\n""" }')
    assert (String.Double, "\n  a \\\n  b ") in produced
    assert (Name.Variable, "c") in produced


@pytest.mark.parametrize("keyword", lark_keywords())
def test_every_lark_keyword_is_a_keyword(keyword):
    """Fails when grammar/mlx.lark gains a keyword the lexer does not know."""
    produced = tokens(f"{{ field = 1 {keyword} name }}")
    assert any(token_type in Keyword and value == keyword for token_type, value in produced), produced
