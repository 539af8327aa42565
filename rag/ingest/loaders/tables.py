"""A PDF's tables, found from where the words of its lines sit: one line per row, cells by " | ".

A PDF has no tables, only words at positions; read as text, a table's row is its cells' words
in a line ("Riverside 31,000 58 1974") and its rows ran together into a paragraph, so no row said
which figure was whose. A run of two or more lines in which some word stands far from the one
before it (a gap wider than the text is high: words of a justified line were measured at most
0.8 of the height apart, cells of Chromium's tables 1.2-9) is read as a table. Its columns start
where such far words start, and where words of two thirds of its rows start (a cell's gap to its
widest neighbour is only its padding, no wider than a word space, but it starts where its column
does); each row is cut into cells there and written as one line, cells joined by " | ", as the
DOCX and HTML loaders write tables. Lines next to such a run with two words or more starting where
its columns do are rows too (a row of one-word cells is spaced as evenly as a justified line).
Cells of several lines and columns aligned other than left are read as their lines come.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.ingest.loaders.layout import Line

_CELL_GAP = 1.0  # a gap between two words, in text heights, that only a table's cells leave
_ALIGN = 2.0  # points: words starting this close start the same column


def _far_words(line: Line) -> list[float]:
    """Where the words standing far from the one before them start: more than a text height away,
    and more than twice the line's narrowest space (a justified line stretches all its spaces
    alike: in a narrow column they are wider than the text is high)."""
    gaps = [gap for _, gap in line.words[1:]]
    if len(gaps) < 2:
        return []
    space = min(gaps)
    return [x for x, gap in line.words[1:] if gap > max(_CELL_GAP * line.height, 2 * space)]


def _row(line: Line, columns: Sequence[float]) -> str:
    words = line.text.split()
    if len(words) != len(line.words):
        return line.text
    cells: list[list[str]] = []
    for word, (x, _) in zip(words, line.words, strict=True):
        starts = any(abs(x - c) <= _ALIGN for c in columns)
        if not cells or starts:
            cells.append([word])
        else:
            cells[-1].append(word)
    return " | ".join(" ".join(c) for c in cells)


def _clusters(xs: Sequence[float]) -> list[list[float]]:
    out: list[list[float]] = []
    for x in sorted(xs):
        if out and x - out[-1][-1] <= _ALIGN:
            out[-1].append(x)
        else:
            out.append([x])
    return out


def _columns(lines: Sequence[Line]) -> list[float]:
    """Where the columns of a run of rows start: at far words, and where words of most rows start."""
    far = [c[0] for c in _clusters([x for line in lines for x in _far_words(line)])]
    starts = [(x, k) for k, line in enumerate(lines) for x, _ in line.words[1:]]
    need = max(2, -(-2 * len(lines) // 3))
    shared = []
    for cluster in _clusters([x for x, _ in starts]):
        rows = {k for x, k in starts if cluster[0] <= x <= cluster[-1]}
        if len(rows) >= need:
            shared.append(cluster[0])
    return [c[0] for c in _clusters(far + shared)]


def _aligned(line: Line, columns: Sequence[float]) -> int:
    """How many of the line's words (after its first) start where a column does."""
    return sum(1 for x, _ in line.words[1:] if any(abs(x - c) <= _ALIGN for c in columns))


def table_rows(lines: Sequence[Line]) -> dict[int, str]:
    """The rows of the tables among one page's lines: line index -> the row, cells by " | "."""
    out: dict[int, str] = {}
    k = 0
    while k < len(lines):
        j = k
        while (
            j < len(lines) and _far_words(lines[j]) and abs(lines[j].height - lines[k].height) < 0.2 * lines[k].height
        ):
            j += 1
        if j == k:
            k += 1
            continue
        columns = _columns(lines[k:j])
        # Rows whose cells are all one word apart as evenly as words are: placed in the columns.
        first, last = k, j
        while first > 0 and first - 1 not in out and _aligned(lines[first - 1], columns) >= 2:
            first -= 1
        while last < len(lines) and _aligned(lines[last], columns) >= 2:
            last += 1
        if last - first >= 2 and (j - k >= 2 or len(columns) >= 2):
            columns = _columns(lines[first:last])
            out.update((i, _row(lines[i], columns)) for i in range(first, last))
        k = max(last, k + 1)
    return out
