"""What follows from a set of fired rules, worked out once per distinct set.

Everything the batch path returns except the scores and an override is a function of which
rules fired. A million assessments hold only thousands of distinct fired sets, so rows are
grouped by their set (packed into 64-bit words and hashed), each new set is worked out once,
and rows take their outputs by the set's code. The table lives as long as a file is scored,
so later chunks mostly find their sets already known. The table is bounded: past
``CAPACITY`` sets it starts afresh, so memory stays flat whatever the input size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import ir

# output column -> the outcome kind it lists (None: the ids of the fired rules)
CAPACITY = 1_000_000
LISTS: dict[str, str | None] = {"fired": None, "derived": "derive", "flags": "flag",
                                "referrals": "referral", "safety_steps": "safety",
                                "steps": "step", "reassess_on": "reassess_on", "needs": "need"}


def distinct_rows(fired: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, first row of each code) for the distinct rows of boolean columns, e.g.
    the sets of fired rules. Every output but the scores and an override is a function of that
    set, and a million rows hold only thousands of sets, so outputs are worked out once per
    set. Columns are packed eight to a byte and the bytes read as 64-bit words, which pandas
    hashes without sorting."""
    codes = np.zeros(n, dtype=np.int64)
    for start in range(0, max(len(fired), 1), 64):
        group = fired[start:start + 64]
        octets = []
        for b in range(0, 64, 8):
            byte = np.zeros(n, dtype=np.uint8)
            for i, col in enumerate(group[b:b + 8]):
                byte |= col.view(np.uint8) << np.uint8(i)
            octets.append(byte)
        word = np.stack(octets, axis=1).view(np.uint64).ravel()
        word_codes, uniques = pd.factorize(word)
        if start == 0:
            codes = word_codes.astype(np.int64)
        else:
            codes, _ = pd.factorize(codes * len(uniques) + word_codes)
    # factorize numbers codes in order of first appearance: a code's first row is where the
    # running maximum of the codes steps up
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1))
    return codes, first


def pack_keys(rows: np.ndarray) -> np.ndarray | list[bytes]:
    """One hashable key per row of a boolean matrix: a 64-bit word when it has at most 64
    columns (looked up without a Python loop), else the packed bytes."""
    packed = np.ascontiguousarray(np.packbits(rows, axis=1, bitorder="little"))
    if packed.shape[1] <= 8:
        return np.pad(packed, ((0, 0), (0, 8 - packed.shape[1]))).view(np.uint64).ravel()
    return packed.view(f"V{packed.shape[1]}").ravel().tolist()


class KeyIndex:
    """Codes for keys, handed out in order of first sight and kept across chunks. Words live
    in a sorted array (looked up and inserted vectorised); longer keys in a dict."""

    def __init__(self) -> None:
        self.count = 0
        self.sorted = np.zeros(0, dtype=np.uint64)
        self.sorted_codes = np.zeros(0, dtype=np.int64)
        self.by_bytes: dict[bytes, int] = {}

    def codes(self, keys: np.ndarray | list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """(code of each key, positions of the keys not seen before); keys are distinct."""
        if isinstance(keys, list):
            codes = np.empty(len(keys), dtype=np.int64)
            new: list[int] = []
            for i, key in enumerate(keys):
                code = self.by_bytes.get(key)
                if code is None:
                    code = self.by_bytes[key] = self.count
                    self.count += 1
                    new.append(i)
                codes[i] = code
            return codes, np.array(new, dtype=np.int64)
        pos = np.searchsorted(self.sorted, keys)
        found = pos < len(self.sorted)
        found[found] = self.sorted[pos[found]] == keys[found]
        codes = np.empty(len(keys), dtype=np.int64)
        codes[found] = self.sorted_codes[pos[found]]
        new_at = np.flatnonzero(~found)
        codes[new_at] = self.count + np.arange(len(new_at))
        self.count += len(new_at)
        if len(new_at):
            order = np.argsort(keys[new_at])
            fresh = keys[new_at][order]
            at = np.searchsorted(self.sorted, fresh)
            self.sorted = np.insert(self.sorted, at, fresh)
            self.sorted_codes = np.insert(self.sorted_codes, at, codes[new_at][order])
        return codes, new_at


def spell(has: np.ndarray, names: list[str]) -> list[str]:
    """Per row of ``has``, the names whose column is true joined by ',' (in the order of
    ``names``). Eight names at a time are looked up in a table of the 256 spellings of a byte
    (each ending in ','), the pieces concatenated and the last ',' trimmed, all in Arrow:
    a file can hold hundreds of thousands of distinct sets."""
    if has.shape[0] == 0 or has.shape[1] == 0:
        return [""] * has.shape[0]
    packed = np.packbits(has, axis=1, bitorder="little")
    pieces = []
    for j in range(packed.shape[1]):
        chunk = names[8 * j:8 * j + 8]
        table = pa.array(["".join(f"{n}," for b, n in enumerate(chunk) if byte >> b & 1)
                          for byte in range(256)], type=pa.string())
        pieces.append(table.take(pa.array(packed[:, j])))
    joined = pieces[0] if len(pieces) == 1 else pc.binary_join_element_wise(*pieces, "")
    return pc.utf8_rtrim(joined, characters=",").to_pylist()


def spell_rows(has: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Per row of ``has``, a code into the distinct spellings, each spelt once."""
    if has.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), [""]
    codes, first = distinct_rows(list(np.ascontiguousarray(has.T)), has.shape[0])
    return codes, spell(has[first], names)


def categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    """A categorical from codes known to be in range, without a validating pass over them."""
    small = codes.astype(np.int8 if len(categories) < 127 else
                         np.int16 if len(categories) < 32_767 else np.int32)
    dtype = pd.CategoricalDtype(pd.Index(categories, dtype=object))   # no Arrow round trip
    return pd.Categorical.from_codes(small, dtype=dtype, validate=False)


class _Growing:
    """An array that grows at the end in amortised constant time."""

    def __init__(self, dtype):
        self.data = np.zeros(1024, dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        need = self.size + len(values)
        if need > len(self.data):
            bigger = np.zeros(max(need, 2 * len(self.data)), dtype=self.data.dtype)
            bigger[:self.size] = self.data[:self.size]
            self.data = bigger
        self.data[self.size:need] = values
        self.size = need

    def take(self, index: np.ndarray) -> np.ndarray:
        return self.data[:self.size][index]


class _Spelling:
    """One list column: which names each fired set lists, spelt as 'a,b,c'."""

    def __init__(self, rs: ir.CompiledRuleSet, kind: str | None):
        if kind is None:
            self.names = sorted({r.id for r in rs.rules})
            pairs = [(r.index, r.id) for r in rs.rules]
        else:
            self.names = sorted({str(o.value) for r in rs.rules for o in r.outcomes
                                 if o.kind == kind})
            pairs = [(r.index, str(o.value)) for r in rs.rules for o in r.outcomes
                     if o.kind == kind]
        pos = {v: i for i, v in enumerate(self.names)}
        self.link = np.zeros((len(rs.rules), len(self.names)), dtype=np.float32)
        for index, name in pairs:
            self.link[index, pos[name]] = 1
        self.words: list[str] = []
        self.index = KeyIndex()                      # which names -> word
        self.codes = _Growing(np.int32)              # per known set: its word

    def add(self, sets: np.ndarray) -> None:
        has = (sets @ self.link) > 0                      # BLAS: rules -> listed names
        local, first = distinct_rows(list(np.ascontiguousarray(has.T)), len(has))
        codes, new = self.index.codes(pack_keys(has[first]))
        if len(new):
            self.words.extend(spell(has[first][new], self.names))
        self.codes.extend(codes[local].astype(np.int32))

    def column(self, sets: np.ndarray, rows: np.ndarray) -> pd.Categorical:
        """The column for rows whose distinct sets are ``sets`` (row i has ``sets[rows[i]]``),
        with only the spellings those rows use as categories."""
        local, used = pd.factorize(self.codes.take(sets))
        return categorical(local[rows], [self.words[i] for i in used] or [""])


class OutcomeTable:
    """Per distinct fired set: level, intensity, re-assessment days and the spelt lists."""

    def __init__(self, rs: ir.CompiledRuleSet):
        self.rs = rs
        self.clear()

    def clear(self) -> None:
        self.index = KeyIndex()
        self.level = _Growing(np.int8)
        self.intensity = _Growing(np.int8)            # -1: none
        self.days = _Growing(np.int64)                # -1: none
        self.lists = {name: _Spelling(self.rs, kind) for name, kind in LISTS.items()}

    def codes_of(self, fired: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
        """(the table's code of each distinct set in these rows, the distinct set of each
        row), adding the sets not seen before."""
        local, first = distinct_rows(fired, n)
        reps = np.array([col[first] for col in fired], dtype=bool).T.reshape(len(first),
                                                                            len(fired))
        if self.index.count + len(first) > CAPACITY:
            self.clear()
        codes, new = self.index.codes(pack_keys(reps))
        if len(new):
            self._add(reps[new])
        return codes, local

    def _add(self, sets: np.ndarray) -> None:
        rs = self.rs
        level = np.zeros(len(sets), dtype=np.int8)
        inten = np.full(len(sets), -1, dtype=np.int8)
        days = np.full(len(sets), np.iinfo(np.int64).max, dtype=np.int64)
        for r in rs.rules:
            hit = sets[:, r.index]
            for o in r.outcomes:
                if o.kind == "level":
                    np.maximum(level, int(o.value), out=level, where=hit)
                elif o.kind == "intensity":
                    np.maximum(inten, int(o.value), out=inten, where=hit)
                elif o.kind == "reassess_days":
                    np.minimum(days, int(o.value), out=days, where=hit)
        days[days == np.iinfo(np.int64).max] = -1
        self.level.extend(level)
        self.intensity.extend(inten)
        self.days.extend(days)
        as_float = sets.astype(np.float32)
        for spelling in self.lists.values():
            spelling.add(as_float)
