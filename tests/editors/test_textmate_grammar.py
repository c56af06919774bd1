"""The TextMate grammar grammar/mlx.tmLanguage.json, exercised through
vscode-textmate and vscode-oniguruma: the engine VS Code highlights with."""

from pathlib import Path

import pytest
from editor_tooling import GRAMMAR, REPO, TEXTMATE_HARNESS, lark_keywords, require_node_packages, run_node

pytestmark = pytest.mark.node

SHOWCASE = Path(__file__).parent / "samples" / "showcase.mlx"

# What a keyword may be scoped as: a keyword proper, a declaration keyword
# (storage.type), or true/false (constant.language).
KEYWORD_SCOPES = ("keyword.", "storage.", "constant.language.")
# A scope that only groups tokens; a token carrying nothing else is unscoped.
GROUPING_SCOPES = ("source.mlx", "meta.")


KEYWORDS = lark_keywords()


def mlx_files() -> list[Path]:
    """Every example and every .mlx under tests/, golden bad inputs included."""
    return sorted({*REPO.glob("examples/**/*.mlx"), *REPO.glob("tests/**/*.mlx")})


def keyword_probe(keyword: str) -> str:
    """`keyword` in value position, where every keyword must still be told
    from a name (`x` only counts there, after a number)."""
    return f"{{ field = 1 {keyword} name }}\n"


# Declarations half typed, as an editor sees them while one types.
UNFINISHED = """\
param rate: float =
stage first {
  cpus = 1
}
template T(a: int) :
service web {
}
"""


@pytest.fixture(scope="module")
def tokenized() -> dict[str, list[list[dict]]]:
    """Every document tokenised by one Node process: id -> lines -> tokens."""
    require_node_packages(TEXTMATE_HARNESS)
    # errors="replace": golden bad inputs include a file that is not UTF-8,
    # which an editor shows with replacement characters too.
    documents = {str(path.relative_to(REPO)): path.read_text(errors="replace") for path in mlx_files()}
    documents |= {f"probe:{keyword}": keyword_probe(keyword) for keyword in KEYWORDS}
    documents["unfinished"] = UNFINISHED
    return run_node(
        TEXTMATE_HARNESS / "tokenize.mjs",
        cwd=TEXTMATE_HARNESS,
        request={"grammar": str(GRAMMAR), "documents": documents},
    )


def is_code(scopes: list[str]) -> bool:
    """Whether a token is code: outside strings and comments, or inside an
    interpolation within a string."""
    last_literal = max((i for i, s in enumerate(scopes) if s.startswith(("string.", "comment."))), default=-1)
    last_embedded = max((i for i, s in enumerate(scopes) if s.startswith("meta.embedded.")), default=-1)
    return last_embedded >= last_literal


def tokens_of(tokenized: dict, document: str):
    for number, line in enumerate(tokenized[document], start=1):
        for token in line:
            yield number, token


def find_token(tokenized: dict, document: str, line_containing: str, text: str) -> dict:
    """The first token spelled `text` on the first line of `document` that contains `line_containing`."""
    lines = (REPO / document).read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line_containing in line)
    matches = [token for token in tokenized[document][number] if token["text"] == text]
    assert matches, f"no token {text!r} on line {number + 1}: {tokenized[document][number]}"
    return matches[0]


def showcase_id() -> str:
    return str(SHOWCASE.relative_to(REPO))


@pytest.mark.parametrize("path", mlx_files(), ids=lambda path: str(path.relative_to(REPO)))
def test_every_token_has_a_scope(tokenized, path):
    unscoped = [
        (number, token["text"])
        for number, token in tokens_of(tokenized, str(path.relative_to(REPO)))
        if token["text"].strip() and all(scope.startswith(GROUPING_SCOPES) for scope in token["scopes"])
    ]
    assert unscoped == []


@pytest.mark.parametrize("path", mlx_files(), ids=lambda path: str(path.relative_to(REPO)))
def test_every_keyword_gets_a_keyword_scope(tokenized, path):
    # `x` is a keyword only between a count and a model (`4 x a100`);
    # elsewhere it is an ordinary name, so the probes check it instead.
    words = set(KEYWORDS) - {"x"}
    wrong = [
        (number, token["text"], token["scopes"][-1])
        for number, token in tokens_of(tokenized, str(path.relative_to(REPO)))
        if token["text"].strip() in words
        and is_code(token["scopes"])
        and not any(scope.startswith(KEYWORD_SCOPES) for scope in token["scopes"])
    ]
    assert wrong == []


@pytest.mark.parametrize(
    "path",
    sorted({*REPO.glob("examples/**/*.mlx"), SHOWCASE}),
    ids=lambda path: str(path.relative_to(REPO)),
)
def test_valid_files_have_no_invalid_characters(tokenized, path):
    invalid = [
        (number, token["text"])
        for number, token in tokens_of(tokenized, str(path.relative_to(REPO)))
        if any(scope.startswith("invalid.") for scope in token["scopes"])
    ]
    assert invalid == []


@pytest.mark.parametrize("keyword", KEYWORDS)
def test_every_lark_keyword_has_a_rule(tokenized, keyword):
    """Fails when grammar/mlx.lark gains a keyword that the TextMate grammar
    does not know, so the two cannot drift apart."""
    tokens = [token for line in tokenized[f"probe:{keyword}"] for token in line if token["text"] == keyword]
    assert tokens, f"{keyword!r} is not a token of its own: {tokenized[f'probe:{keyword}']}"
    assert any(scope.startswith(KEYWORD_SCOPES) for scope in tokens[0]["scopes"]), tokens[0]["scopes"]


@pytest.mark.parametrize(
    ("line_containing", "text", "scope"),
    [
        ("site box", "//", "punctuation.definition.comment.mlx"),
        ("site box", " the machine at hand", "comment.line.double-slash.mlx"),
        ("stage greet", "stage", "storage.type.stage.mlx"),
        ("stage greet", "greet", "entity.name.function.stage.mlx"),
        ("stage greet", "Greet", "entity.name.type.template.mlx"),
        ("stage greet", "times", "variable.parameter.sweep.mlx"),
        ("stage greet", "in", "keyword.control.in.mlx"),
        ("template Greet", "Greet", "entity.name.type.template.mlx"),
        ("template Greet", "who", "variable.parameter.mlx"),
        ("template Greet", "int", "support.type.mlx"),
        ("site box", "box", "entity.name.type.site.mlx"),
        ("site box", "local", "support.type.site-kind.mlx"),
        ("site box", "GiB", "keyword.other.unit.mlx"),
        ("site box", "4", "constant.numeric.quantity.mlx"),
        ("site box", "x", "keyword.other.times.mlx"),
        ("param greeting", "greeting", "entity.name.variable.param.mlx"),
        ("description", "$$", "constant.character.escape.mlx"),
        ("description", '\\"', "constant.character.escape.mlx"),
        ("for i in", "$$", "constant.character.escape.mlx"),
        ("out note", "out", "keyword.other.port.mlx"),
        ("out note", "note", "variable.other.property.port.mlx"),
        ("out note", "file", "entity.name.function.mlx"),
        ("out note", "size", "variable.parameter.mlx"),
        ("out note", "${", "punctuation.definition.template-expression.begin.mlx"),
        ("out note", "times", "meta.embedded.line.mlx"),
        ("out note", "}", "punctuation.definition.template-expression.end.mlx"),
        ("done >", "out", "keyword.other.port.mlx"),
        ("done >", "note", "variable.other.mlx"),
        ("stage shout", "times", "variable.parameter.sweep.mlx"),
        ("stage shout", "loud", "variable.parameter.sweep.mlx"),
        ("stage shout", "in", "keyword.control.in.mlx"),
        ("stage shout", "zip", "entity.name.function.mlx"),
        ("greet[times", "greet", "meta.selection.mlx"),
        ("greet[times", "times", "variable.parameter.mlx"),
    ],
)
def test_hand_picked_token_scopes(tokenized, line_containing, text, scope):
    token = find_token(tokenized, showcase_id(), line_containing, text)
    assert scope in token["scopes"], token["scopes"]


def test_interpolated_name_is_a_variable_inside_the_string(tokenized):
    scopes = find_token(tokenized, showcase_id(), "out note", "times")["scopes"]
    assert scopes.index("string.quoted.double.mlx") < scopes.index("meta.embedded.line.mlx")
    assert scopes[-1] == "variable.other.mlx"


def test_triple_quoted_string_spans_lines(tokenized):
    lines = SHOWCASE.read_text().splitlines()
    opening = next(i for i, line in enumerate(lines) if line.rstrip().endswith('"""'))
    closing = next(i for i, line in enumerate(lines) if i > opening and line.strip() == '"""')
    assert opening + 1 < closing
    for line in tokenized[showcase_id()][opening + 1 : closing]:
        for token in line:
            assert "string.quoted.triple.mlx" in token["scopes"], token
    # The quotes of `echo "..."` inside the long string open no string of their own.
    echo = find_token(tokenized, showcase_id(), 'echo "', '      echo "')
    assert "string.quoted.double.mlx" not in echo["scopes"]


def test_a_declaration_being_typed_does_not_swallow_the_next(tokenized):
    scopes = {
        token["text"]: token["scopes"][-1] for _, token in tokens_of(tokenized, "unfinished") if token["text"].strip()
    }
    assert scopes["first"] == "entity.name.function.stage.mlx"
    assert scopes["cpus"] == "variable.other.property.mlx"
    assert scopes["web"] == "entity.name.function.service.mlx"
