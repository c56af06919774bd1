"""A Pygments lexer for .mlx: highlighting in Sphinx, MkDocs, `pygmentize` and
anything else built on Pygments. It mirrors the TextMate grammar
grammar/mlx.tmLanguage.json (the one editors use); grammar/mlx.lark stays the
authority on what the language is."""

from pygments.lexer import RegexLexer, bygroups, default, include, words
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

__all__ = ["MlxLexer"]

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# NUMBER and QUANTITY as grammar/mlx.lark spells them: a unit never starts
# with what could still be an exponent (1e5 is a number, 1e5GB a quantity).
NUMBER = r"-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?"
UNIT = r"(?![eE][+-]?\d)(?:[A-Za-z][A-Za-z0-9]*(?:/[A-Za-z]+)?|/[A-Za-z]+)"
# A number never starts inside a name (a100) or right after a dot.
NOT_AFTER_WORD = r"(?<![A-Za-z0-9_.])"

DECLARATION_KEYWORDS = (
    "experiment",
    "param",
    "secret",
    "dataset",
    "site",
    "link",
    "template",
    "stage",
    "service",
    "partition",
    "pool",
)


class MlxLexer(RegexLexer):
    """Lexes the .mlx experiment language of mlc."""

    name = "MLX"
    aliases = ["mlx"]
    filenames = ["*.mlx"]
    mimetypes = ["text/x-mlx"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"//.*$", Comment.Single),
            (r"import\b", Keyword.Namespace),
            (
                rf"(site)(\s+)({NAME})(\s*)(:)(\s*)({NAME})",
                bygroups(
                    Keyword.Declaration, Whitespace, Name.Class, Whitespace, Punctuation, Whitespace, Name.Builtin
                ),
            ),
            (
                rf"(experiment|site|partition|pool)(\s+)({NAME})",
                bygroups(Keyword.Declaration, Whitespace, Name.Class),
            ),
            (
                rf"(secret|dataset)(\s+)({NAME})",
                bygroups(Keyword.Declaration, Whitespace, Name.Variable),
            ),
            (
                rf"(param)(\s+)({NAME})(\s*)(:)",
                bygroups(Keyword.Declaration, Whitespace, Name.Variable, Whitespace, Punctuation),
                "type",
            ),
            (
                rf"(link)(\s+)({NAME})(\s*)(<->|->)(\s*)({NAME})",
                bygroups(Keyword.Declaration, Whitespace, Name.Class, Whitespace, Operator, Whitespace, Name.Class),
            ),
            (
                rf"(template)(\s+)({NAME})(\s*)(\()",
                bygroups(Keyword.Declaration, Whitespace, Name.Class, Whitespace, Punctuation),
                "template-parameters",
            ),
            (
                rf"(stage|service)(\s+)({NAME})",
                bygroups(Keyword.Declaration, Whitespace, Name.Function),
            ),
            # `stage train : Train(...)` instantiates the template Train.
            (
                rf"(:)(\s*)({NAME})(?=\s*\()",
                bygroups(Punctuation, Whitespace, Name.Class),
            ),
            # A port: `in data = prepare.data`.
            (
                rf"(in|out)(\s+)({NAME})(?=\s*=)",
                bygroups(Keyword, Whitespace, Name.Attribute),
            ),
            # A sweep axis: `for lr in [...]`.
            (rf"({NAME})(\s+)(in)\b", bygroups(Name.Variable, Whitespace, Keyword)),
            # Paired sweep variables: `for (lr, bs) in zip(...)`.
            (rf"{NAME}(?=(?:\s*,\s*{NAME})*\s*\)\s*in\b)", Name.Variable),
            # A field, a keyword argument or a map key.
            (rf"{NAME}(?=\s*[=:])", Name.Attribute),
            (r"<->|->|=", Operator),
            (r"[{}()\[\],;:.]", Punctuation),
            include("value"),
            (r".", Error),
        ],
        "value": [
            (r'"""', String.Double, "triple-string"),
            (r'"', String.Double, "string"),
            # `4 x a100`: a count of accelerators of one model.
            (rf"{NOT_AFTER_WORD}({NUMBER})(\s+)(x)\b", bygroups(Number, Whitespace, Keyword)),
            (rf"{NOT_AFTER_WORD}({NUMBER})({UNIT})", bygroups(Number, Keyword.Type)),
            (NOT_AFTER_WORD + NUMBER, Number),
            (words(("true", "false"), suffix=r"\b"), Keyword.Constant),
            (words(DECLARATION_KEYWORDS, suffix=r"\b"), Keyword.Declaration),
            (words(("for", "in", "out"), suffix=r"\b"), Keyword),
            (rf"{NAME}(?=\s*\()", Name.Function),
            (NAME, Name),
        ],
        "type": [
            (r"[ \t]+", Whitespace),
            (NAME, Keyword.Type),
            (r"[\[\]]", Punctuation),
            default("#pop"),
        ],
        "template-parameters": [
            (r"\s+", Whitespace),
            (r"//.*$", Comment.Single),
            (rf"({NAME})(\s*)(:)", bygroups(Name.Variable, Whitespace, Punctuation), "type"),
            (r"=", Operator),
            (r",", Punctuation),
            (r"\)", Punctuation, "#pop"),
            include("value"),
            (r".", Error),
        ],
        "string": [
            (r'"', String.Double, "#pop"),
            (r'\\[nt"\\]|\$\$', String.Escape),
            (r"\\.", Error),  # the front end reports an unknown escape (E0105)
            (r"\$\{", String.Interpol, "interpolation"),
            (r'[^"\\$\n]+|\$', String.Double),
            # A one-line string: a missing closing quote ends it at the line's end.
            (r"\n", Error, "#pop"),
        ],
        # Verbatim apart from `$$` and `${...}`: a shell's line-continuation
        # backslash stays itself.
        "triple-string": [
            (r'"""', String.Double, "#pop"),
            (r"\$\$", String.Escape),
            (r"\$\{", String.Interpol, "interpolation"),
            (r'[^"$]+|["$]', String.Double),
        ],
        "interpolation": [
            (r"\}", String.Interpol, "#pop"),
            (words(("in", "out"), suffix=r"\b"), Keyword),
            (NAME, Name.Variable),
            (r"\.", Punctuation),
            # Anything else is the string's again (the checker reports the bad interpolation).
            default("#pop"),
        ],
    }
