"""Hypothesis strategies for random, syntactically valid .mlx programs in
random layouts: tokens joined by random whitespace, `;` and comments.

A program is drawn as a token list first (the structure), then laid out
(the layout), so a failing example shrinks towards both a small program and
a plain layout."""

from __future__ import annotations

from hypothesis import strategies as st

# Names that are no keyword of the grammar (`x` is one: `4 x a100`).
NAMES = st.sampled_from(["a", "b", "lr", "data", "model", "train_2", "Cpu", "_h", "sites"])

_STRING_PIECES = st.sampled_from([
    "text", " ", "a.b", "$$", "$${a}", "${lr}", "${in.data}", "$HOME", "\\n", "\\t", '\\"',
    "\\\\", "//", "{", "}", "é", "日本",
])
_LONG_PIECES = st.sampled_from([
    "line", "\n", "  indented", "${out.ckpt}", "\\", '"', '""', "$$", "\t", "// not a comment",
])
_NUMBERS = st.sampled_from(["0", "1", "12", "-3", "0.01", "1.5e3", ".5", "200"])
_QUANTITIES = st.sampled_from(["8KB", "12h", "30GB", "1.2/h", "0.01/GB", "100Mbps", "5m", "768GiB"])


def _string():
    short = st.lists(_STRING_PIECES, max_size=5).map(lambda ps: ['"' + "".join(ps) + '"'])
    long = st.lists(_LONG_PIECES, max_size=6).map("".join).filter(
        lambda body: '"""' not in body and not body.endswith('"')).map(lambda b: ['"""' + b + '"""'])
    return st.one_of(short, long)


def _separated(items: list[list[str]], trailing_comma: bool) -> list[str]:
    tokens: list[str] = []
    for i, item in enumerate(items):
        if i:
            tokens.append(",")
        tokens.extend(item)
    if items and trailing_comma:
        tokens.append(",")
    return tokens


def _ref():
    return st.lists(NAMES, min_size=1, max_size=3).map(lambda ns: [t for n in ns for t in (".", n)][1:])


def _values():
    leaves = st.one_of(
        _NUMBERS.map(lambda n: [n]),
        _QUANTITIES.map(lambda q: [q]),
        st.tuples(st.sampled_from(["1", "4", "8"]), st.sampled_from(["a100", "t4"])).map(
            lambda g: [g[0], "x", g[1]]),
        st.sampled_from([["true"], ["false"]]),
        _ref(),
        _string(),
    )

    def containers(inner):
        # a per-member reference: `train[lr = lr, bs = 16].ckpt`
        select = st.tuples(NAMES, st.lists(st.tuples(NAMES, inner), min_size=1, max_size=3), st.booleans(),
                           st.lists(NAMES, max_size=2)).map(
            lambda t: [t[0], "[", *_separated([[k, "=", *v] for k, v in t[1]], t[2]), "]",
                       *[x for n in t[3] for x in (".", n)]])
        list_ = st.tuples(st.lists(inner, max_size=4), st.booleans()).map(
            lambda t: ["[", *_separated(t[0], t[1]), "]"])
        key = st.one_of(_ref(), _string().filter(lambda s: not s[0].startswith('"""')))
        map_ = st.tuples(st.lists(st.tuples(key, inner), max_size=3), st.booleans()).map(
            lambda t: ["{", *_separated([[*k, ":", *v] for k, v in t[0]], t[1]), "}"])
        arg = st.one_of(inner, st.tuples(NAMES, inner).map(lambda kv: [kv[0], "=", *kv[1]]))
        call = st.tuples(NAMES, st.lists(arg, max_size=3), st.booleans()).map(
            lambda t: [t[0], "(", *_separated(t[1], t[2]), ")"])
        return st.one_of(list_, map_, call, select)

    return st.recursive(leaves, containers, max_leaves=8)


VALUES = _values()


def _fields(allow_ports: bool):
    field = st.tuples(NAMES, VALUES).map(lambda f: [f[0], "=", *f[1]])
    members = field
    if allow_ports:
        port = st.tuples(st.sampled_from(["in", "out"]), NAMES, VALUES).map(
            lambda p: [p[0], p[1], "=", *p[2]])
        members = st.one_of(field, port)
    return st.lists(st.tuples(members, st.booleans()), max_size=5).map(
        lambda ms: [t for m, semi in ms for t in (*m, *([";"] if semi else []))])


def _block(allow_ports: bool = False):
    return _fields(allow_ports).map(lambda fs: ["{", *fs, "}"])


def _type():
    return st.one_of(
        st.sampled_from(["int", "str", "float"]).map(lambda t: [t]),
        st.sampled_from(["int", "str"]).map(lambda t: ["list", "[", t, "]"]),
    )


def _call():
    arg = st.one_of(VALUES, st.tuples(NAMES, VALUES).map(lambda kv: [kv[0], "=", *kv[1]]))
    return st.tuples(NAMES, st.lists(arg, max_size=3)).map(
        lambda t: [t[0], "(", *_separated(t[1], False), ")"])


def _declarations():
    pool = st.tuples(st.sampled_from(["partition", "pool"]), NAMES, _block()).map(
        lambda p: [p[0], p[1], *p[2]])
    site_members = st.lists(st.one_of(
        st.tuples(NAMES, VALUES).map(lambda f: [f[0], "=", *f[1]]), pool), max_size=4)
    tparam = st.tuples(NAMES, _type(), st.one_of(st.none(), VALUES)).map(
        lambda p: [p[0], ":", *p[1], *(["=", *p[2]] if p[2] else [])])
    plain_axis = st.tuples(NAMES, VALUES).map(lambda a: [a[0], "in", *a[1]])
    zip_axis = st.tuples(st.lists(NAMES, min_size=1, max_size=3), VALUES).map(
        lambda a: ["(", *_separated([[n] for n in a[0]], False), ")", "in", *a[1]])
    axis = st.one_of(plain_axis, zip_axis)
    return st.one_of(
        _string().filter(lambda s: not s[0].startswith('"""')).map(lambda s: ["import", *s]),
        st.tuples(NAMES, _block()).map(lambda d: ["experiment", d[0], *d[1]]),
        st.tuples(NAMES, _type(), VALUES).map(lambda p: ["param", p[0], ":", *p[1], "=", *p[2]]),
        st.tuples(st.sampled_from(["secret", "dataset"]), NAMES, _block()).map(
            lambda d: [d[0], d[1], *d[2]]),
        st.tuples(NAMES, st.sampled_from(["slurm", "kubernetes", "local"]), site_members).map(
            lambda s: ["site", s[0], ":", s[1], "{", *[t for m in s[2] for t in m], "}"]),
        st.tuples(NAMES, st.sampled_from(["<->", "->"]), NAMES, _block()).map(
            lambda link: ["link", link[0], link[1], link[2], *link[3]]),
        st.tuples(NAMES, st.lists(tparam, max_size=3), st.booleans(),
                  st.sampled_from(["stage", "service"]), _block(True)).map(
            lambda t: ["template", t[0], "(", *_separated(t[1], t[2] and bool(t[1])), ")", ":",
                       t[3], *t[4]]),
        st.tuples(st.sampled_from(["stage", "service"]), NAMES, st.one_of(st.none(), _call()),
                  st.lists(axis, max_size=2), _block(True)).map(_unit),
    )


def _unit(parts) -> list[str]:
    keyword, name, call, axes, body = parts
    tokens = [keyword, name]
    if call:
        tokens += [":", *call]
    if axes and keyword == "stage":
        tokens += ["for", *_separated(axes, False)]
    return tokens + body


_SEPARATORS = st.sampled_from([
    "\t", "\n", "\n\n", "\n\n\n", " // note\n", "// a // b\n",
    "\n  // own line\n", "\n\n// after a blank\n\n", "\r\n",
])


@st.composite
def programs(draw) -> str:
    """A random program text. Tokens are separated by one plain separator,
    except at a few drawn places that get a comment, blank lines or odd
    whitespace; each separator holds a space, a newline or a comment with
    its newline, so tokens never merge."""
    decls = draw(st.lists(_declarations(), max_size=5))
    tokens = [t for d in decls for t in d]
    plain = draw(st.sampled_from([" ", "\n", "  "]))
    special = draw(st.dictionaries(st.integers(0, max(len(tokens) - 1, 0)), _SEPARATORS,
                                   max_size=10)) if tokens else {}
    out = [draw(st.sampled_from(["", "// top\n", "\n"]))]
    for i, tok in enumerate(tokens):
        out.append(tok)
        out.append(special.get(i, plain))
    return "".join(out)
