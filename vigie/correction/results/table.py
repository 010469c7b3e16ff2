"""The stored answers of a sitting, one column per question in roster order.

A correction reads about 4 million answer rows; kept as 12,000 small dicts they cost
600 MB and, scored question by question, a cache miss for every answer. As columns
(roster order, ``None`` where a candidate did not answer), with each distinct answer
text held once, they take a tenth of that and a question's answers are one list.
Through the ``Mapping`` interface the table reads as candidate -> question -> text,
like any other ``Sitting.answers``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence


class AnswerTable(Mapping[str, Mapping[str, str]]):
    __slots__ = ("_canon", "_columns", "_extra", "_index", "roster")

    def __init__(self, roster: Sequence[str], questions: Iterable[str] = ()) -> None:
        self.roster = tuple(roster)
        self._index = {c: i for i, c in enumerate(self.roster)}
        self._columns: dict[str, list[str | None]] = {
            q: [None] * len(self.roster) for q in questions
        }
        self._extra: dict[str, dict[str, str]] = {}  # candidates not in the roster
        self._canon: dict[str, str] = {}

    def load(self, rows: Iterable[tuple[str, str, str]]) -> int:
        """Stores (candidate, question, text) rows in order: a later one replaces an earlier one.

        Returns how many rows it read.
        """
        columns, index, canon = self._columns, self._index, self._canon.setdefault
        n = 0
        # Per row, the common case only (a question known beforehand, a roster candidate);
        # ``n`` counts the rows.
        for n, (cid, qid, text) in enumerate(rows, 1):  # noqa: B007
            try:
                columns[qid][index[cid]] = canon(text, text)
            except KeyError:
                self._store(cid, qid, text)
        return n

    def _store(self, cid: str, qid: str, text: str) -> None:
        i = self._index.get(cid)
        if i is None:
            self._extra.setdefault(cid, {})[qid] = text
            return
        col = self._columns.get(qid)
        if col is None:
            col = self._columns[qid] = [None] * len(self.roster)
        col[i] = self._canon.setdefault(text, text)

    def column(self, qid: str) -> list[str | None]:
        """Each roster candidate's answer to ``qid`` (``None``: not answered). Not a copy."""
        col = self._columns.get(qid)
        return col if col is not None else [None] * len(self.roster)

    def __getitem__(self, cid: str) -> Mapping[str, str]:
        i = self._index.get(cid)
        if i is None:
            return self._extra[cid]
        return _Row(self._columns, i)

    def __iter__(self) -> Iterator[str]:
        yield from self.roster
        yield from self._extra

    def __len__(self) -> int:
        return len(self.roster) + len(self._extra)

    def __contains__(self, cid: object) -> bool:
        return cid in self._index or cid in self._extra


class _Row(Mapping[str, str]):
    """One candidate's answers: question -> text, in the table's question order."""

    __slots__ = ("_columns", "_i")

    def __init__(self, columns: dict[str, list[str | None]], i: int) -> None:
        self._columns = columns
        self._i = i

    def __getitem__(self, qid: str) -> str:
        col = self._columns.get(qid)
        text = col[self._i] if col is not None else None
        if text is None:
            raise KeyError(qid)
        return text

    def __iter__(self) -> Iterator[str]:
        return (q for q, col in self._columns.items() if col[self._i] is not None)

    def __len__(self) -> int:
        return sum(1 for col in self._columns.values() if col[self._i] is not None)
