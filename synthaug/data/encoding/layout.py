"""The layout of an encoded table: which features hold which part of which column.

The layout is data, so a generator puts a softmax on each softmax span and nothing on the
continuous ones, and a decoder needs nothing but the layout and the fitted statistics.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from synthaug.exceptions import InvalidParameterError

__all__ = ["Span", "SpanKind", "SpanLayout"]

#: ``"continuous"``: one value; ``"mode"``: the one-hot mixture component of a continuous
#: column (``numerical="gmm"``); ``"discrete"``: the one-hot slots of a discrete column;
#: ``"code"``: a discrete column's slot number as one feature (``discrete="codes"``);
#: ``"missing"``: a continuous column's missing flag, one 0/1 feature (``missing="indicator"``)
#: or a two-way one-hot ``[observed, missing]`` (``missing="onehot"``)
SpanKind = Literal["continuous", "mode", "discrete", "code", "missing"]

_KINDS = ("continuous", "mode", "discrete", "code", "missing")


@dataclass(frozen=True)
class Span:
    """One block of output features: ``array[:, start:end]`` encodes column ``column``.

    Examples
    --------
    >>> from synthaug.data.encoding import Span
    >>> span = Span("work", "discrete", 3, 6)
    >>> span.width, span.softmax
    (3, True)
    """

    column: str
    kind: SpanKind
    start: int
    end: int

    @property
    def width(self) -> int:
        return self.end - self.start

    @property
    def softmax(self) -> bool:
        """Whether the block is one-hot (a softmax for a generator, argmax to decode)."""
        return self.kind in ("mode", "discrete") or (self.kind == "missing" and self.width > 1)


class SpanLayout:
    """The spans of an encoding, in feature order, with lookups by schema column index.

    Parameters
    ----------
    spans : sequence of Span
        Contiguous, in feature order; the spans of one column are adjacent.
    names : sequence of str
        The schema's column names, in order (spans name their column; lookups use indices).

    Raises
    ------
    InvalidParameterError
        When the spans leave a gap, split a column or name a column not in ``names``.

    Examples
    --------
    >>> from synthaug.data.encoding import Span, SpanLayout
    >>> layout = SpanLayout([Span("x", "continuous", 0, 1), Span("x", "missing", 1, 3),
    ...                      Span("c", "discrete", 3, 5)], ["x", "id", "c"])
    >>> layout.width, [j for j, _ in layout.groups()], layout.level_span(2)
    (5, [0, 2], Span(column='c', kind='discrete', start=3, end=5))
    """

    def __init__(self, spans: Sequence[Span], names: Sequence[str]) -> None:
        self.spans = list(spans)
        self.names = list(names)
        index = {name: j for j, name in enumerate(self.names)}
        self._groups: list[tuple[int, list[Span]]] = []
        start = 0
        for span in self.spans:
            if span.kind not in _KINDS or span.start != start or span.end <= span.start:
                raise InvalidParameterError(
                    f"span {span} does not continue the layout at feature {start}.")
            if span.column not in index:
                raise InvalidParameterError(f"span {span} names a column not in {self.names}.")
            start = span.end
            j = index[span.column]
            if self._groups and self._groups[-1][0] == j:
                self._groups[-1][1].append(span)
            else:
                if any(g == j for g, _ in self._groups):
                    raise InvalidParameterError(
                        f"the spans of column {span.column!r} are not adjacent.")
                self._groups.append((j, [span]))
        self._by_index = dict(self._groups)
        self.width = start

    def __iter__(self) -> Iterator[Span]:
        return iter(self.spans)

    def __len__(self) -> int:
        return len(self.spans)

    def groups(self) -> list[tuple[int, list[Span]]]:
        """``(schema column index, its spans)`` for each encoded column, in feature order."""
        return list(self._groups)

    def column_spans(self, j: int) -> list[Span]:
        """The spans of schema column ``j`` (empty for identifier and empty columns)."""
        return list(self._by_index.get(j, []))

    def level_span(self, j: int) -> Span | None:
        """The slot span (one-hot or codes) of discrete column ``j``; ``None`` otherwise."""
        for span in self._by_index.get(j, []):
            if span.kind in ("discrete", "code"):
                return span
        return None

    def discrete(self) -> list[tuple[int, Span]]:
        """``(column index, slot span)`` of every discrete column, in feature order."""
        return [(j, s) for j, spans in self._groups for s in spans if s.kind in ("discrete",
                                                                                 "code")]

    def to_state(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self.spans]

    @classmethod
    def from_state(cls, spans: Sequence[Mapping[str, Any]], names: Sequence[str]) -> SpanLayout:
        return cls([Span(str(s["column"]), s["kind"], int(s["start"]), int(s["end"]))
                    for s in spans], names)
