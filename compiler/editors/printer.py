"""The canonical layout of an .mlx file (docs/fmt-lsp.md states the rules).

The printer walks lark's parse tree (tokens.py) and writes every token as it
was written (strings, numbers and quantities byte for byte), choosing only
the whitespace between tokens. Comments are put back by position:

- a comment on the line where an element (declaration, field, port, pool,
  item of a broken list, map or call) ends stays at the end of that line;
- comment lines before an element stay before it, at its indentation;
- a comment inside a list, map, call, or block breaks it one item a line,
  so the comment keeps its place between the items;
- a comment inside something that cannot break (between `stage x` and its
  `{`, inside `a.b` or `4 x a100`) moves to its own line just before the
  element that holds it. Nothing is dropped.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable

from lark import Token, Tree

from .tokens import Comment, comments, parse_tree

WIDTH = 100
INDENT = "  "

# Trees whose children sit between an opening and a closing token and can be
# printed one per line.
_BRACKETED = {"list", "map", "call", "block", "body"}
_ONE_LINE_KINDS = {"import_decl", "param_decl"}  # consecutive ones may stay together


def format_text(text: str) -> str:
    """The canonical form of `text`. Raises lark's UnexpectedInput on a
    syntax error (the caller reports it through the front end)."""
    text = text.removeprefix("\ufeff")
    tree = parse_tree(text)
    return _Printer(comments(text, tree)).module(tree)


# --- positions and plain text of parse-tree nodes ---------------------------


def _start(node) -> int:
    return node.start_pos if isinstance(node, Token) else node.meta.start_pos


def _end(node) -> int:
    return node.end_pos if isinstance(node, Token) else node.meta.end_pos


def _line(node) -> int:
    return node.line if isinstance(node, Token) else node.meta.line


def _end_line(node) -> int:
    return node.end_line if isinstance(node, Token) else node.meta.end_line


def _subtrees(node) -> list[Tree]:
    return [c for c in node.children if isinstance(c, Tree)]


def _token(node: Tree, kind: str) -> Token:
    return next(c for c in node.children if isinstance(c, Token) and c.type == kind)


def _brackets(node: Tree) -> tuple[Token, Token] | None:
    """The opening and closing tokens of a node that can print its contents
    one a line (a list, map or call only when it has something inside)."""
    if node.data in ("list", "map", "call") and not _subtrees(node):
        return None
    if node.data == "template_decl":
        if not any(c.data == "tparam" for c in _subtrees(node)):
            return None
        return _token(node, "LPAR"), _token(node, "RPAR")
    if node.data in _BRACKETED or node.data == "site_decl":
        opening = next(c for c in node.children
                       if isinstance(c, Token) and c.type in ("LSQB", "LBRACE", "LPAR"))
        return opening, node.children[-1]
    return None


def flat(node) -> str:
    """A node on one line."""
    if isinstance(node, Token):
        return str(node)
    kind, kids = node.data, node.children
    subs = _subtrees(node)
    if kind in ("string", "number", "quantity", "true", "false"):
        return str(kids[0])
    if kind == "gpus":
        return f"{kids[0]} x {kids[2]}"
    if kind == "ref":
        return ".".join(str(t) for t in kids if t.type == "NAME")
    if kind == "select":
        closing = max(i for i, t in enumerate(kids) if isinstance(t, Token) and t.type == "RSQB")
        after = "".join("." + str(t) for t in kids[closing + 1:] if t.type == "NAME")
        return f"{kids[0]}[" + ", ".join(flat(x) for x in subs) + "]" + after
    if kind == "select_key":
        return f"{kids[0]} = {flat(kids[2])}"
    if kind == "type_expr":
        return str(kids[0]) + (f"[{flat(subs[0])}]" if subs else "")
    if kind == "list":
        return "[" + ", ".join(flat(x) for x in subs) + "]"
    if kind == "map":
        return "{" + ", ".join(flat(x) for x in subs) + "}"
    if kind == "call":
        return f"{kids[0]}(" + ", ".join(flat(x) for x in subs) + ")"
    if kind == "map_item":
        return f"{flat(kids[0])}: {flat(kids[2])}"
    if kind == "arg":
        return flat(kids[0])
    if kind == "kwarg":
        return f"{kids[0]} = {flat(kids[2])}"
    if kind == "tparam":
        default = f" = {flat(kids[4])}" if len(kids) > 3 else ""
        return f"{kids[0]}: {flat(kids[2])}{default}"
    if kind == "sweep_axis":
        return f"{kids[0]} in {flat(kids[2])}"
    if kind == "zip_axis":
        return f"{_zip_names(node)} in {flat(kids[-1])}"
    raise ValueError(f"no one-line form for `{kind}`")


def _zip_names(node: Tree) -> str:
    """`(a, b)` of `(a, b) in zip(xs, ys)`."""
    return "(" + ", ".join(str(t) for t in node.children[:-2] if isinstance(t, Token) and t.type == "NAME") + ")"


# --- the printer --------------------------------------------------------------


class _Pending:
    """The comments not printed yet, in source order. Most leave from the
    front; a moved one leaves from the middle, so it is marked instead."""

    def __init__(self, found: list[Comment]):
        self.comments = found
        self.starts = [c.start for c in found]
        self.first = 0  # every comment before this one is printed
        self.moved: set[int] = set()  # indexes printed out of order

    def _skip_moved(self) -> None:
        while self.first in self.moved:
            self.first += 1

    def peek(self) -> Comment | None:
        self._skip_moved()
        return self.comments[self.first] if self.first < len(self.comments) else None

    def pop(self) -> Comment:
        comment = self.peek()
        self.first += 1
        return comment

    def before(self, offset: int) -> list[Comment]:
        """Take the comments that start before `offset`."""
        taken = []
        while (c := self.peek()) is not None and c.start < offset:
            taken.append(self.pop())
        return taken

    def rest(self) -> list[Comment]:
        taken = []
        while self.peek() is not None:
            taken.append(self.pop())
        return taken

    def inside(self, begin: int, end: int) -> list[int]:
        """Indexes of the comments strictly between two offsets."""
        lo = max(bisect_right(self.starts, begin), self.first)
        hi = bisect_left(self.starts, end)
        return [i for i in range(lo, hi) if i not in self.moved]

    def take(self, indexes: list[int]) -> list[Comment]:
        self.moved.update(indexes)
        return [self.comments[i] for i in indexes]


class _Printer:
    def __init__(self, found: list[Comment]):
        self.pending = _Pending(found)
        self.lines: list[str] = []
        self.current: str | None = None  # the output line being built
        self.depth = 0
        self.last_line = 0  # source line where the last printed thing ended
        self.block_start = True  # no blank line right after `{`

    # --- output ---

    def write(self, text: str) -> None:
        self.current += text

    def column(self) -> int:
        return len(self.current) - (self.current.rfind("\n") + 1)

    def fits(self, text: str) -> bool:
        return "\n" not in text and self.column() + len(text) <= WIDTH

    def new_line(self, blank: bool = False) -> None:
        if self.current is not None:
            self.lines.append(self.current)
            if blank:
                self.lines.append("")
        self.current = INDENT * self.depth

    def open_line(self, source_line: int) -> None:
        """Start an output line for something that begins on `source_line`,
        with one blank line before it where the source had at least one."""
        self.new_line(not self.block_start and source_line > self.last_line + 1)
        self.block_start = False

    def text(self) -> str:
        if self.current is not None:
            self.lines.append(self.current)
        return "".join(line + "\n" for line in self.lines)

    # --- comments ---

    def comment_line(self, comment: Comment, source_line: int) -> None:
        self.open_line(source_line)
        self.write(comment.text)
        self.last_line = source_line

    def take_homeless(self, node) -> list[Comment]:
        """Comments inside `node` that no bracket of it can hold: they move
        to their own lines before it."""
        inside = self.pending.inside(_start(node), _end(node))
        if not inside or isinstance(node, Token):
            return []
        spans = [(_end(o), _start(c)) for o, c in filter(None, map(_brackets, node.iter_subtrees()))]
        starts = self.pending.starts
        return self.pending.take(
            [i for i in inside if not any(a <= starts[i] < b for a, b in spans)])

    def trailing(self, node, limit: int | None) -> None:
        """Keep the comment that follows `node` on its last line at the end
        of the output line (`limit`: where the next element starts)."""
        c = self.pending.peek()
        if c is not None and c.line == _end_line(node) and c.start >= _end(node) \
                and (limit is None or c.start < limit):
            self.write(" " + self.pending.pop().text)

    def comment_inside(self, node) -> bool:
        return bool(self.pending.inside(_start(node), _end(node)))

    # --- elements: things that start their own line ---

    def element(self, node, limit: int | None, body: Callable[[], None]) -> None:
        for c in self.pending.before(_start(node)):
            self.comment_line(c, c.line)
        for c in self.take_homeless(node):
            self.comment_line(c, _line(node))
        self.open_line(_line(node))
        body()
        self.trailing(node, limit)
        self.last_line = _end_line(node)

    def elements(self, nodes: list, closing: Token, print_one: Callable) -> None:
        """One element a line, one level deeper, then the comments before
        `closing`; leaves the output at the start of the closing line."""
        self.depth += 1
        self.block_start = True
        for i, node in enumerate(nodes):
            limit = _start(nodes[i + 1]) if i + 1 < len(nodes) else _start(closing)
            self.element(node, limit, lambda node=node: print_one(node))
        for c in self.pending.before(_start(closing)):
            self.comment_line(c, c.line)
        self.depth -= 1
        self.new_line()
        self.block_start = False

    # --- values ---

    def value(self, node, tail: str = "") -> None:
        """A value at the current column: on one line when it fits and holds
        no comment, else one item a line, each with a trailing comma."""
        text = flat(node)
        if node.data == "select":
            self.selection(node, text, tail)
            return
        brackets = _brackets(node) if node.data in ("list", "map", "call") else None
        if brackets is None or (self.fits(text + tail) and not self.comment_inside(node)):
            self.write(text)
            return
        opening, closing = brackets
        items = _subtrees(node)
        self.write(str(node.children[0]) + "(" if node.data == "call" else str(opening))
        self.trailing(opening, _start(items[0]))
        self.elements(items, closing, self.item)
        self.write(str(closing))

    def selection(self, node: Tree, text: str, tail: str) -> None:
        """`stage[key = value, ...].output`: on one line when it fits, else
        one key a line, like a call's arguments."""
        if self.fits(text + tail) and not self.comment_inside(node):
            self.write(text)
            return
        kids = node.children
        opening = _token(node, "LSQB")
        closing = max((t for t in kids if isinstance(t, Token) and t.type == "RSQB"), key=lambda t: t.start_pos)
        keys = _subtrees(node)
        self.write(f"{kids[0]}[")
        self.trailing(opening, _start(keys[0]))
        self.elements(keys, closing, self.item)
        after = kids[kids.index(closing) + 1:]
        self.write("]" + "".join("." + str(t) for t in after if isinstance(t, Token) and t.type == "NAME"))

    def item(self, node: Tree) -> None:
        """One item of a broken list, map, call or template parameter list."""
        kids = node.children
        if node.data == "map_item":
            self.write(f"{flat(kids[0])}: ")
            self.value(kids[2], ",")
        elif node.data in ("kwarg", "select_key"):
            self.write(f"{kids[0]} = ")
            self.value(kids[2], ",")
        elif node.data == "arg":
            self.value(kids[0], ",")
        elif node.data == "tparam":
            self.write(f"{kids[0]}: {flat(kids[2])}")
            if len(kids) > 3:
                self.write(" = ")
                self.value(kids[4], ",")
        else:
            self.value(node, ",")
        self.write(",")

    # --- the file ---

    def module(self, tree: Tree) -> str:
        decls = _subtrees(tree)
        previous: str | None = None  # "comment", or the rule of the last declaration
        for i, decl in enumerate(decls):
            before = [(c, c.line) for c in self.pending.before(_start(decl))]
            hoisted = [(c, _line(decl)) for c in self.take_homeless(decl)]
            for c, line in before + hoisted:
                previous = self.top_comment(previous, c, line)
            self.top_line(previous, decl.data, _line(decl))
            getattr(self, decl.data)(decl)
            self.trailing(decl, _start(decls[i + 1]) if i + 1 < len(decls) else None)
            self.last_line = _end_line(decl)
            previous = decl.data
        for c in self.pending.rest():  # after the last declaration
            previous = self.top_comment(previous, c, c.line)
        return self.text()

    def top_comment(self, previous: str | None, comment: Comment, source_line: int) -> str:
        self.top_line(previous, "comment", source_line)
        self.write(comment.text)
        self.last_line = source_line
        return "comment"

    def top_line(self, previous: str | None, this: str, source_line: int) -> None:
        """Blank lines at the top level: one between declarations; the
        source's choice (none or one) inside a run of comments, between a
        comment and what it introduces, and between consecutive imports or
        consecutive params."""
        if previous is None:
            blank = False
        elif previous == "comment" or (previous == this and this in _ONE_LINE_KINDS):
            blank = source_line > self.last_line + 1
        else:
            blank = True
        self.new_line(blank)
        self.block_start = False

    # --- declarations ---

    def block(self, node: Tree, members: list | None = None) -> None:
        """` {`, the members one a line, `}`; or ` {}` when empty."""
        opening, closing = _brackets(node)
        members = _subtrees(node) if members is None else members
        if not members and not self.comment_inside(node):
            self.write(" {}")
            return
        self.write(" {")
        self.trailing(opening, _start(members[0]) if members else _start(closing))
        self.elements(members, closing, self.member)
        self.write("}")

    def member(self, node: Tree) -> None:
        kids = node.children
        if node.data == "field":
            self.write(f"{kids[0]} = ")
            self.value(kids[2])
        elif node.data == "port_decl":
            self.write(f"{kids[0]} {kids[1]} = ")
            self.value(kids[3])
        else:
            self.pool_decl(node)

    def import_decl(self, node: Tree) -> None:
        self.write("import " + flat(node.children[1]))

    def experiment_decl(self, node: Tree) -> None:
        self.write(f"experiment {node.children[1]}")
        self.block(node.children[2])

    def secret_decl(self, node: Tree) -> None:
        self.write(f"secret {node.children[1]}")
        self.block(node.children[2])

    def dataset_decl(self, node: Tree) -> None:
        self.write(f"dataset {node.children[1]}")
        self.block(node.children[2])

    def param_decl(self, node: Tree) -> None:
        kids = node.children
        self.write(f"param {kids[1]}: {flat(kids[3])} = ")
        self.value(kids[5])

    def site_decl(self, node: Tree) -> None:
        kids = node.children
        self.write(f"site {kids[1]} : {kids[3]}")
        self.block(node, _subtrees(node))

    def pool_decl(self, node: Tree) -> None:
        self.write(f"{node.children[0]} {node.children[1]}")
        self.block(node.children[2])

    def link_decl(self, node: Tree) -> None:
        kids = node.children
        self.write(f"link {kids[1]} {kids[2]} {kids[3]}")
        self.block(kids[4])

    def template_decl(self, node: Tree) -> None:
        kids = node.children
        params = [c for c in _subtrees(node) if c.data == "tparam"]
        kind, body = kids[-2], kids[-1]
        self.write(f"template {kids[1]}")
        header = "(" + ", ".join(flat(p) for p in params) + f") : {kind}"
        brackets = _brackets(node)
        if brackets is None or (self.fits(header + " {") and not self.pending.inside(
                _start(brackets[0]), _start(brackets[1]))):
            self.write(header)
        else:
            opening, closing = brackets
            self.write("(")
            self.trailing(opening, _start(params[0]))
            self.elements(params, closing, self.item)
            self.write(f") : {kind}")
        self.block(body)

    def stage_decl(self, node: Tree) -> None:
        self.unit("stage", node)

    def service_decl(self, node: Tree) -> None:
        self.unit("service", node)

    def unit(self, keyword: str, node: Tree) -> None:
        """`stage NAME [: Template(...)] [for a in [...], ...] {`; after a
        template call that fits on the line, the sweep moves to a
        continuation line when the header is too long."""
        kids = node.children
        call = next((c for c in _subtrees(node) if c.data == "call"), None)
        sweep = next((c for c in _subtrees(node) if c.data == "sweep"), None)
        axes = _subtrees(sweep) if sweep else []
        self.write(f"{keyword} {kids[1]}")
        call_broke = False
        if call is not None:
            self.write(" : ")
            lines_before = len(self.lines)
            self.value(call, "" if axes else " {")
            call_broke = len(self.lines) > lines_before
        if axes:
            sweep_text = " for " + ", ".join(flat(a) for a in axes)
            continued = call is not None and not call_broke and not self.fits(sweep_text + " {")
            if continued:
                self.depth += 1
                self.new_line()
                self.write("for ")
            else:
                self.write(" for ")
            for i, axis in enumerate(axes):
                last = i + 1 == len(axes)
                names = _zip_names(axis) if axis.data == "zip_axis" else str(axis.children[0])
                self.write(f"{names} in ")
                self.value(axis.children[-1], " {" if last else ",")
                if not last:
                    self.write(", ")
            if continued:
                self.depth -= 1
        self.block(kids[-1])
