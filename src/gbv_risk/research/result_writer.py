"""Writing scored chunks: to a temporary file beside the target, moved into place only when
every chunk is done, so a failed run leaves nothing half-written.

Encoding and compressing happen on a thread of their own (pyarrow and file writes release the
interpreter lock), so writing one chunk overlaps scoring the next; at most two chunks wait,
which keeps memory flat whatever the size of the input.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from pathlib import Path

import pandas as pd

from ..errors import InputFileError
from ..messages import _


def kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise InputFileError(_("{file}: unknown format {suffix}; use .csv, .jsonl or .parquet").format(
        file=path, suffix=repr(suffix)))


class ResultWriter:
    def __init__(self, target: Path):
        self.kind = kind_of(target)
        self.target = target
        if not target.parent.exists():
            raise InputFileError(_("{file}: folder {folder} does not exist").format(
                file=target, folder=target.parent))
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        self.tmp = Path(tmp)
        self.first = True
        self.parquet = None
        self.schema = None
        self.error: BaseException | None = None
        self.queue: queue.Queue[pd.DataFrame | None] = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._run, name="result-writer", daemon=True)
        self.thread.start()

    def write(self, frame: pd.DataFrame) -> None:
        self._raise()
        self.queue.put(frame)

    def commit(self) -> None:
        self._stop()
        self._raise()
        if self.parquet is not None:
            self.parquet.close()
            self.parquet = None
        os.replace(self.tmp, self.target)

    def abort(self) -> None:
        self._stop()
        if self.parquet is not None:
            self.parquet.close()
            self.parquet = None
        self.tmp.unlink(missing_ok=True)

    def _raise(self) -> None:
        if self.error is not None:
            from ..faults import disk_error

            full = disk_error(self.error, str(self.target))
            if full is not None:
                raise full from None
            raise InputFileError(_("{file}: cannot write: {error}").format(
                file=self.target, error=self.error)) from None

    def _stop(self) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()

    def _run(self) -> None:
        while (frame := self.queue.get()) is not None:
            if self.error is None:          # after a failure, keep draining so no put blocks
                try:
                    self._write(frame)
                except Exception as exc:        # reported on the next write or at commit
                    self.error = exc

    def _write(self, frame: pd.DataFrame) -> None:
        if self.kind == "csv":
            self._write_csv(frame)
        elif self.kind == "jsonl":
            with open(self.tmp, "a" if not self.first else "w", encoding="utf-8") as fh:
                fh.write(frame.to_json(orient="records", lines=True, date_format="iso"))
        else:
            self._write_parquet(frame)
        self.first = False

    def _write_csv(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        from pyarrow import csv as pacsv

        from ..csvcells import neutral_table

        table = neutral_table(pa.Table.from_pandas(frame, preserve_index=False))
        options = pacsv.WriteOptions(include_header=self.first, quoting_style="needed")
        with open(self.tmp, "wb" if self.first else "ab") as fh:
            pacsv.write_csv(table, fh, write_options=options)

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.parquet is None:
            # list columns grow new spellings from chunk to chunk: one wide index type for all
            self.schema = pa.schema([
                pa.field(f.name, pa.dictionary(pa.int32(), f.type.value_type))
                if pa.types.is_dictionary(f.type) else f for f in table.schema],
                metadata=table.schema.metadata)
            plain = [f.name for f in self.schema if not pa.types.is_dictionary(f.type)]
            # min/max of long spelt lists cost more than they tell anyone
            self.parquet = pq.ParquetWriter(self.tmp, self.schema, write_statistics=plain)
        self.parquet.write_table(table.cast(self.schema))
