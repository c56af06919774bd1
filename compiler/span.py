"""Source positions: where something was written, as one packed int.

The syntax tree puts one on every node and the IR keeps them on every port,
stage and value, so that a diagnostic or a generated file can point at the
source. They are the same objects: lowering a node hands its position to the
IR as it is, with no copy (a 20,000-stage file has millions of them).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic_core import core_schema

# File names by number: a position holds its file's number. Only grows (a
# file name is a few dozen bytes; a process sees few of them).
_FILES: list[str] = []
_FILE_NUMBERS: dict[str, int] = {}


def file_number(file: str) -> int:
    number = _FILE_NUMBERS.get(file)
    if number is None:
        number = _FILE_NUMBERS[file] = len(_FILES)
        _FILES.append(file)
    return number


_int_new = int.__new__
_FIELD_MASKS = [(1 << w) - 1 for w in range(64)]
NARROW = 8  # the least width W: a position whose fields but the line are under 256


class _SpanModel:
    """Span's fields as pydantic sees them (its schema and dict form)."""

    class Span(BaseModel):
        """A source range; lines and columns are 1-based, end is exclusive."""

        model_config = ConfigDict(frozen=True, extra="forbid")

        file: str
        line: int
        column: int
        end_line: int
        end_column: int


_SpanFields = _SpanModel.Span


class Span(int):
    """A source range: file, line, column, end line, end column (1-based; the
    end column just past the range), with the attributes of those names.

    One int, not a model (a model instance with its `__dict__` costs 264
    bytes and a validation, this 48 and none): from the low bits up, a width
    W (6 bits), then the end column, the column, the end line's distance
    from the line and the file's number (file_number) in W bits each, then
    the line in whatever bits it needs. W is the least multiple of 4 (8 at
    least) all four fit in, so the same range is always the same int:
    spans compare and hash by value. To pydantic it is the model
    `_SpanFields` (the same JSON schema, `Span` in it; a dict is validated
    into a Span and a Span is dumped as a dict)."""

    __slots__ = ()
    model_fields = _SpanFields.model_fields

    def __new__(cls, file: str, line: int, column: int, end_line: int, end_column: int) -> "Span":
        return _int_new(cls, pack(file_number(file), line, column, end_line, end_column))

    @property
    def file(self) -> str:
        w = self & 63
        return _FILES[(self >> 6 + 3 * w) & _FIELD_MASKS[w]]

    @property
    def line(self) -> int:
        return self >> 6 + 4 * (self & 63)

    @property
    def column(self) -> int:
        w = self & 63
        return (self >> 6 + w) & _FIELD_MASKS[w]

    @property
    def end_line(self) -> int:
        w = self & 63
        return (self >> 6 + 4 * w) + ((self >> 6 + 2 * w) & _FIELD_MASKS[w])

    @property
    def end_column(self) -> int:
        return (self >> 6) & _FIELD_MASKS[self & 63]

    def fields(self) -> tuple[str, int, int, int, int]:
        """(file, line, column, end_line, end_column)."""
        w = self & 63
        mask = _FIELD_MASKS[w]
        line = self >> 6 + 4 * w
        return (_FILES[(self >> 6 + 3 * w) & mask], line, (self >> 6 + w) & mask,
                line + ((self >> 6 + 2 * w) & mask), (self >> 6) & mask)

    def span(self) -> "Span":
        """Itself: the syntax tree's positions are the IR's spans."""
        return self

    def to(self, other: "Span") -> "Span":
        """From the start of this range to the end of `other`."""
        w = self & 63
        mask = _FIELD_MASKS[w]
        line = self >> 6 + 4 * w
        return _int_new(Span, pack((self >> 6 + 3 * w) & mask, line, (self >> 6 + w) & mask,
                                   other.end_line, other.end_column))

    def head(self, length: int) -> Span:
        """The first `length` columns of this range, on its first line."""
        file, line, column, _, _ = self.fields()
        return Span(file, line, column, line, column + length)

    def short(self) -> str:
        return f"{self.file}:{self.line}"

    def model_dump(self, **_options) -> dict:
        return dict(zip(_SpanFields.model_fields, self.fields()))

    def __repr__(self) -> str:
        return "Span(" + ", ".join(f"{k}={v!r}" for k, v in self.model_dump().items()) + ")"

    # an int's arithmetic makes no sense of a position
    __str__ = __repr__

    def __reduce__(self):
        return Span, self.fields()

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler) -> core_schema.CoreSchema:
        def validate(value, fields):
            return value if type(value) is Span else Span(**fields(value).model_dump())

        return core_schema.no_info_wrap_validator_function(
            validate, _SpanFields.__pydantic_core_schema__,
            serialization=core_schema.plain_serializer_function_ser_schema(Span.model_dump))


def pack(number: int, line: int, column: int, end_line: int, end_column: int) -> int:
    """The int of Span(file, ...), `number` being file_number(file)."""
    # Below zero (an editor's arithmetic on a strange position) reads as
    # zero, an end before the start as the start's line: a position is
    # only ever shown, and showing one must not fail.
    lines = max(end_line - line, 0)
    line, column, end_column = max(line, 0), max(column, 0), max(end_column, 0)
    w = max(NARROW, -(-max(number, column, lines, end_column).bit_length() // 4) * 4)
    if w > 60:  # W has 6 bits
        raise ValueError(f"not a position: column {column} or {end_column}")
    return w | end_column << 6 | column << 6 + w | lines << 6 + 2 * w | number << 6 + 3 * w | line << 6 + 4 * w
