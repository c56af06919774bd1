"""The fast parser (compiler/frontend/descent.py) against lark's
(compiler/frontend/lalr.py), the specification: on every text the two
accept the same files, build equal trees (positions included), and the
front end's diagnostics are lark's. A text the fast parser refuses goes to
lark, so "refuses exactly when lark does" is what keeps it fast, and "equal
trees when both accept" is what keeps it right."""

from __future__ import annotations

import json
import random
import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.diagnostics import Diagnostics
from compiler.frontend import ast as A
from compiler.frontend import descent, lalr, syntax
from compiler.frontend.limits import MAX_NAME_LENGTH, MAX_NESTING
from tests.conftest import ROOT
from tests.fmt import programs as P

SOURCES = sorted({*ROOT.glob("examples/**/*.mlx"), *ROOT.glob("tests/**/*.mlx")})


def _read(path) -> str:
    # as the loader hands a file to the parser
    return path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _lark_only(text: str, path: str = "t.mlx"):
    """What syntax.parse_module was before the fast parser: lark, then the finisher."""
    diags = Diagnostics()
    decls = lalr.parse_module(text, path, diags)
    if decls is None:
        return None, diags.items
    finisher = syntax._Finisher(path, diags)
    for d in decls:
        finisher.decl(d)
    return A.Module(path, decls), diags.items


def assert_same(text: str, path: str = "t.mlx") -> bool:
    """Both parsers agree on `text`; True when it parses."""
    fast = descent.parse_module(text, path)
    spec = lalr.parse_module(text, path, Diagnostics())
    if spec is None:
        assert fast is None, f"the fast parser accepts what lark rejects:\n{text}"
    else:
        assert fast is not None, f"the fast parser refuses what lark accepts:\n{text}"
        assert fast == spec
    diags = Diagnostics()
    assert (syntax.parse_module(text, path, diags), diags.items) == _lark_only(text, path)
    return spec is not None


def test_the_scanner_is_lark_s_lexer():
    # The fast parser's copy of the token rules is the pattern lexer.MlxLexer
    # builds from grammar/mlx.lark: an edited terminal fails here.
    assert descent.PATTERN.pattern == lalr._lark().parser.lexer.lexer.pattern.pattern


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_of_the_repository_parses_the_same(path):
    assert_same(_read(path), str(path.relative_to(ROOT)))


def test_every_example_is_parsed_by_the_fast_parser():
    for path in ROOT.glob("examples/**/*.mlx"):
        assert descent.parse_module(_read(path), path.name) is not None, path


@pytest.mark.parametrize("batch", [(1, 1), (5, 2), (40, 10)])
def test_tokens_scanned_by_small_batches_parse_the_same(batch, monkeypatch):
    # The scanner runs ahead by batches; a declaration longer than what is
    # left is read again with more tokens. Tiny batches cross every boundary.
    monkeypatch.setattr(descent, "_BATCH", batch[0])
    monkeypatch.setattr(descent, "_LOW", batch[1])
    for path in SOURCES:
        assert_same(_read(path), path.name)
    assert_same(_bench_texts()["fan_in gather"])


def _bench_texts() -> dict[str, str]:
    # bench/ is a folder of scripts importing each other from there (tests/bench/conftest.py)
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))
    import fan_in
    import lsp_latency
    from suite import dag, sites

    from compiler.interop.wfformat import import_wfformat

    texts = {
        "fan_in gather": fan_in.gather(300),
        "fan_in paired": fan_in.paired(300),
        "lsp_latency": lsp_latency.experiment(60, "marker"),
    }
    for name in ("blast-1.4", "genome-1.5"):
        source = ROOT / "tests/interop/data/wfformat" / f"{name}.json"
        imported = import_wfformat(source, sites=True)
        texts[f"wfformat {name}"] = imported.text
        texts[f"wfformat {name} sites"] = imported.sites_text
        for cluster in sites.CLUSTERS:
            texts[f"suite catalog {name} {cluster}"] = sites.catalog(dag.load(source), cluster)
    return texts


def test_the_benchmarks_inputs_parse_the_same():
    texts = _bench_texts()
    for name, text in texts.items():
        assert text and assert_same(text, name), name


# --- generated programs -----------------------------------------------------

# Keywords where names go: lark takes a word as a keyword wherever its
# (merged) LALR state can, which is where the two parsers could part.
KEYWORDS = ["in", "out", "for", "x", "true", "false", "stage", "site", "partition", "pool", "import",
            "param", "service", "template", "link", "dataset", "secret", "experiment"]
EXTRA_PIECES = ["\\q", "${", "${a b}", "${ a }", "\x01", "$", "\\u"]


def _name_like(token: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token) is not None


@st.composite
def token_lists(draw) -> list[str]:
    tokens = [t for d in draw(st.lists(P._declarations(), max_size=4)) for t in d]
    # some names (none, a few or many) become keywords
    rate = draw(st.sampled_from([0.0, 0.1, 0.3]))
    rnd = draw(st.randoms(use_true_random=False))
    for i, t in enumerate(tokens):
        if _name_like(t) and rnd.random() < rate:
            tokens[i] = rnd.choice(KEYWORDS)
    # some strings get escapes and interpolations the finisher reports
    strings = [i for i, t in enumerate(tokens) if t.startswith('"') and not t.startswith('"""')]
    for at, piece in draw(st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(EXTRA_PIECES)),
                                   max_size=2)):
        if strings:
            i = strings[at % len(strings)]
            tokens[i] = tokens[i][:-1] + piece + '"'
    return tokens


SEPARATORS = st.sampled_from([" ", "\n", "  ", "", "\t", "\f", "\r", " // c\n", "//\n", "\n\n  \n", "/**/"])


@st.composite
def layouts(draw, tokens: list[str]) -> str:
    plain = draw(st.sampled_from([" ", "\n"]))
    special = draw(st.dictionaries(st.integers(0, max(len(tokens) - 1, 0)), SEPARATORS, max_size=8))
    return draw(st.sampled_from(["", "// top\n", "\n\t"])) + "".join(
        tok + special.get(i, plain) for i, tok in enumerate(tokens))


@st.composite
def texts(draw) -> str:
    return draw(layouts(draw(token_lists())))


@st.composite
def mutated(draw) -> str:
    tokens = draw(token_lists().filter(bool))
    i = draw(st.integers(0, len(tokens) - 1))
    j = draw(st.integers(0, len(tokens) - 1))
    how = draw(st.sampled_from(["delete", "duplicate", "swap", "insert"]))
    if how == "delete":
        del tokens[i]
    elif how == "duplicate":
        tokens.insert(i, tokens[i])
    elif how == "swap":
        tokens[i], tokens[j] = tokens[j], tokens[i]
    else:
        tokens.insert(i, draw(st.sampled_from([*KEYWORDS, "{", "}", "(", ")", "[", "]", ",", ";", ":", "=",
                                              ".", "->", "1", "2GB", '"s"', "@", '"open',
                                              # outside ASCII: digits the terminals' \d takes, a letter none does
                                              "\u0661", "1\u0660.5", "\u0662GiB", "\u00e9"])))
    return draw(layouts(tokens))


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(texts())
@FAST
def test_generated_programs_parse_the_same(text):
    assert_same(text)


@given(mutated())
@FAST
def test_mutated_programs_are_refused_exactly_when_lark_refuses_them(text):
    assert_same(text)


@given(st.sampled_from([p for p in SOURCES if "examples" in p.parts]), st.randoms(use_true_random=False),
       st.sampled_from(["delete", "insert", "duplicate"]))
@settings(max_examples=150, deadline=None)
def test_examples_with_a_character_changed_parse_the_same(path, rnd: random.Random, how):
    text = _read(path)
    at = rnd.randrange(len(text))
    if how == "delete":
        text = text[:at] + text[at + 1:]
    elif how == "duplicate":
        text = text[:at] + text[at] + text[at:]
    else:
        text = text[:at] + rnd.choice('{}[](),;:=."x\n/-') + text[at:]
    assert_same(text, path.name)


@given(P.VALUES.map(" ".join), st.sampled_from(["", " ", "\n", "// c\n"]))
@FAST
def test_values_parse_the_same(text, after):
    """`-p name=value`: the value start symbol."""
    text += after
    fast = descent.parse_value(text, "-p")
    diags = Diagnostics()
    spec = lalr.parse_value(text, "-p", diags)
    if spec is None:
        assert fast is None
    else:
        assert fast == spec
    ours, reference = Diagnostics(), Diagnostics()
    value = syntax.parse_value(text, "-p", ours)
    tree = lalr.parse_value(text, "-p", reference)
    expected = syntax._Finisher("-p", reference).value(tree) if tree is not None else None
    assert (value, ours.items) == (expected, reference.items)


@pytest.mark.parametrize("text", ["", "1 2", "[1,", "true", "x", "4 x a100", "{a: 1}", '"${a}"', "f(a = 1,)",
                                  "train[i = 1].model", "stage", "-", "@"])
def test_a_few_values_parse_the_same(text):
    fast = descent.parse_value(text, "-p")
    spec = lalr.parse_value(text, "-p", Diagnostics())
    assert fast == spec


@pytest.mark.parametrize("text", ["param p: int = \u0661\u0662\n", "param p: int = 1\u0660\n",
                                  "param p: float = 0.\u0665\n", "param p: string = \u0661GiB\n", "\u0660"])
def test_digits_outside_ascii_parse_the_same(text):
    """The terminals' `\\d` matches any decimal digit: a token may start with
    one the scanner's table of first characters lacks (found by the fuzzer)."""
    assert_same(text)
    assert descent.parse_value(text.rsplit("= ", 1)[-1], "-p") == lalr.parse_value(
        text.rsplit("= ", 1)[-1], "-p", Diagnostics())


# --- the fallback: lark's diagnostics ----------------------------------------

FALLBACK = {
    # lark's merged LALR states: after a value, `site` is a keyword, even
    # where only a field name may follow; lark rejects the field
    "stage s {\n  n = 3\n  site = hpc\n}\n": ("E0101", "unexpected `site`", 3),
    "experiment e {\n  a = f()\n  for = 1\n}\n": ("E0101", "unexpected `for`", 3),
    "experiment e { a = 1\n in = 2 }\n": ("E0101", "unexpected `in`", 2),
    # after a block's `}`, every declaration keyword
    "site s : local {\n  pool p { }\n  stage = 1\n}\n": ("E0101", "unexpected `stage`", 3),
    # after a number, `x` is the GPU keyword
    "stage s {\n  n = 4\n  x = 1\n}\n": ("E0101", "unexpected `=`", 3),
    "stage s {\n  run = \"a\n}\n": ("E0103", "unterminated string", 2),
    "stage s {\n  run = @\n}\n": ("E0102", "unexpected character `@`", 2),
    "stage s {\n  run = \"a\"\n": ("E0106", "unexpected end of file", 3),
    f"stage {'n' * (MAX_NAME_LENGTH + 1)} {{}}\n": ("E0109", f"a name of {MAX_NAME_LENGTH + 1} characters", 1),
    "param p: list[int] = " + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1) + "\n":
        ("E0109", f"brackets nested more than {MAX_NESTING} deep", 1),
}


@pytest.mark.parametrize("text", FALLBACK, ids=lambda t: t[:24])
def test_a_file_the_fast_parser_refuses_gets_lark_s_diagnostics(text):
    code, message, line = FALLBACK[text]
    assert descent.parse_module(text, "f.mlx") is None
    diags = Diagnostics()
    assert syntax.parse_module(text, "f.mlx", diags) is None
    first = diags.items[0]
    assert (first.code, first.span.line) == (code, line) and first.message.startswith(message), first
    assert diags.items == _lark_only(text, "f.mlx")[1]
    if code == "E0101":  # the `expected ...` list of the LALR tables
        assert any(n.message.startswith("expected ") for n in first.notes)


def test_recovery_still_reports_every_broken_declaration():
    text = "stage a {\n  run = @\n}\nstage b {\n  n = 3\n  site = x\n}\nstage c {\n  run = \"ok\"\n}\n"
    diags = Diagnostics()
    assert syntax.parse_module(text, "f.mlx", diags) is None
    assert [(d.code, d.span.line) for d in diags.items] == [("E0102", 2), ("E0101", 6)]


def test_where_a_keyword_is_a_name_both_parsers_take_it():
    # After `{` or `;` lark's state takes no keyword but in/out (bodies) and
    # partition/pool (sites): a field may be called `stage` there.
    text = ("experiment e { stage = 1; in = 2; x = 3 }\n"
            "stage stage : for() for in in [1] { site = 1; for = f() }\n"
            "site s : local { in = 1; partition p { stage = 2 } in = 3 }\n")
    assert assert_same(text)
    module = syntax.parse_module(text, "t.mlx", Diagnostics())
    assert [f.name for f in module.decls[0].fields] == ["stage", "in", "x"]


def test_a_document_of_many_stages_parses_the_same():
    stages = "".join(
        f'stage s{i} for k in [1, 2] {{\n  in a = file("in/{i}.txt", size = {i}B)\n'
        f'  out b = file("out/${{k}}/{i}.txt")\n  gpus = 2 x a100\n  env = {{"K": "v{i}", k: 1.5e3}}\n'
        f'  run = """\n    cmd {i} \\\\ ${{in.a}}\n  """\n}}\n' for i in range(200))
    assert assert_same(stages)


def test_json_strings_are_not_special():
    # a string with every escape the grammar's STRING takes, and a long one with quotes inside
    text = "experiment e { a = " + json.dumps('q"\\\t\n') + '; b = """ "" x """ }\n'
    assert assert_same(text)


# --- every word in every place a name goes -----------------------------------

WORDS = [*KEYWORDS, "plain"]
ITEMS_BEFORE = ["", "a = 1;", 'a = "s"', 'a = """s"""', "a = 1", "a = 1GB", "a = true", "a = b", "a = b.c",
                "a = [1]", "a = {b: 1}", "a = f()", "a = t[i = 1]", "a = t[i = 1].o", "a = 4 x a100",
                "a = f(); ;"]
CONTAINERS = {"experiment e {": [], "stage s {": ["in a = 1", "out a = f()"],
              "site s : local {": ["pool p { }", "partition p { a = 1 }"]}
NAME_PLACES = ["stage {w} {{}}", "experiment e {{ a = {w} }}", "experiment e {{ a = b.{w} }}",
               "experiment e {{ a = f({w} = 1) }}", "experiment e {{ a = t[{w} = 1] }}",
               "experiment e {{ a = {{{w}: 1}} }}", "experiment e {{ a = {{b.{w}: 1, c: 2}} }}",
               "param p: {w} = 1", "param p: list[{w}] = 1", "stage s for {w} in [1] {{}}",
               "stage s for (a, {w}) in zip([1], [2]) {{}}", "template t({w}: int = 1) : stage {{}}",
               "template t() : {w} {{}}", "link {w} -> b {{}}", "link a <-> {w} {{}}", "site s : {w} {{}}",
               "site s : local {{ pool {w} {{}} }}", "experiment e {{ a = 4 x {w} }}",
               "stage s {{ in {w} = 1 }}", "stage s : {w}() {{}}", "service s : f({w}) {{}}",
               "experiment e {{ a = [{w}, {w}] }}", "experiment e {{ a = t[i = 1].{w} }}"]


def test_every_word_after_every_kind_of_item_parses_the_same():
    # lark's keywords follow its LALR states; this walks the cases where a
    # field name follows each way an item can end, in each kind of braces.
    for opening, extra in CONTAINERS.items():
        for before in ITEMS_BEFORE + extra:
            for word in WORDS:
                for after in (" = 1 }", " = f() }", " }"):
                    assert_same(f"{opening} {before}\n {word}{after}\n")


def test_every_word_in_every_place_a_name_goes_parses_the_same():
    for place in NAME_PLACES:
        for word in WORDS:
            assert_same(place.format(w=word) + "\n")


# --- a port as one token ------------------------------------------------------

# Spellings around the one-token ports (PORT, PORT_REF): the common ones,
# and every way one can stop short of being one (a comment, a line break or
# a tab where the pattern wants a space, a number, a LONG_STRING, a name
# over the limit, `true`, a third name, a `.` after the last one...).
LONG = "n" * MAX_NAME_LENGTH
PORT_LINES = [
    'in a = file("x.txt", size = 12B)', 'out a = file("x.txt")', 'in  a=f( "x" ,size=1.5e3GiB )',
    'in a = f("x", size = 12B,)', 'in a = f("x", size = 12)', 'in a = f("x", size = 1e5)', 'in a = f("x", 12B)',
    'in a = f("""x""", size = 1B)', 'in a = f("", size = 1B)', 'in a = f("\\"", size = 1B)',
    'in a = f("x", true = 1B)', 'in a = true("x")', 'in true = f("x")', 'in in = f("x")', 'in a = f("x", y = 1B/s)',
    'in\ta = f("x")', 'in a = f("x" // c\n, size = 1B)', 'in a =\n f("x")', 'in a = f("x", size = -2MB)',
    'in a = s.o', 'out a = s.o', 'in a = s . o', 'in a = s.o.p', 'in a = s.o .p', 'in a = s.o // c\n .p',
    'in a = s.o\n\n.p', 'in a = s.o .5', 'in a = true.o', 'in a = s.true', 'in a = s.o(1)', 'in a = s[i = 1].o',
    f'in {LONG} = {LONG}.{LONG}', f'in {LONG}n = s.o', f'in a = s.{LONG}n', f'in a = {LONG}("x", {LONG} = 1B)',
    f'in a = f("x", {LONG}n = 1B)', 'in a = f("' + "y" * 300 + '", size = 1B)', 'in a = s' + "t" * 120 + ".o",
]
PORT_PLACES = ["stage s {{\n  {p}\n}}\n", "stage s {{ n = 1; {p}; {p} }}\n", "stage s {{ n = f() {p} }}\n",
               "template t() : stage {{\n  {p}\n  out b = file(\"o\")\n}}\n", "service v : f() {{ {p} }}\n",
               "experiment e {{ {p} }}\n", "site s : local {{ {p} }}\n", "stage s {{ a = x.{p} }}\n",
               "stage s {{ a = 5.{p} }}\n", 'stage s {{ a = "q"{p} }}\n', "stage s for {p} {{}}\n",
               "stage s {{ a = [{p}] }}\n", "{p}\n"]


@pytest.mark.parametrize("line", PORT_LINES)
def test_ports_written_as_one_token_parse_the_same(line):
    for place in PORT_PLACES:
        assert_same(place.format(p=line))


def test_the_common_ports_are_one_token_each():
    # The fast path exists to be taken: the usual lines of an imported workflow are one token each.
    text = ('stage s {\n  in a = file("x.txt", size = 12B)\n  out b = file("y")\n'
            '  in c = t.o\n  out  d=f( "x" ,size=1.5e3GiB )\n}\n')
    tokens = descent._Tokens(text, "t.mlx", descent._PAIRS_WITH_PORTS)
    tokens.scan(None)
    assert tokens.kinds == ["NAME", "NAME", "{", "PORT", "PORT", "PORT_REF", "PORT", "}", "$END"]
    assert assert_same(text)


@given(st.lists(st.sampled_from(PORT_LINES), min_size=1, max_size=6), st.sampled_from(["\n", " ", "; ", "\n  "]),
       st.integers(0, 300))
@settings(max_examples=100, deadline=None)
def test_ports_at_any_column_parse_the_same(lines, separator, indent):
    # past column 255 a position is no longer the narrow int: both layouts of a part's position
    assert_same("stage s {\n" + " " * indent + separator.join(lines) + "\n}\n")
