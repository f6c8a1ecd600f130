"""Reading uploaded CSV files: one way for every import (ASC-WDS training files, staff lists).

``open_csv`` decodes the bytes (UTF-8, with or without Excel's byte-order mark), enforces a size limit
and reads the header; ``Problem`` is one line-numbered complaint; ``parse_dmy`` reads ASC-WDS dates.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


@dataclass
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"Line {self.line}" if self.line else "File"
        return f"{where}{', ' + self.field if self.field else ''}: {self.message}"


def parse_dmy(value: str) -> date | None:
    """DD/MM/YYYY exactly (ASC-WDS is strict), or None."""
    if len(value) != 10 or value[2] != "/" or value[5] != "/" or not _DATE.match(value):
        return None
    try:
        return date(int(value[6:]), int(value[3:5]), int(value[:2]))
    except ValueError:
        return None


def open_csv(data: bytes, max_bytes: int, problems: list[Problem]):
    """``(header, reader)`` for a CSV file's bytes, or None after adding the reason to ``problems``.

    The header is as written (stripped); the reader yields the remaining rows and knows their line numbers
    (``reader.line_num``)."""
    if len(data) > max_bytes:
        problems.append(Problem(0, "", f"The file is {len(data) / 1048576:.1f} MB; the limit is "
                                       f"{max_bytes / 1048576:.0f} MB. Split it into smaller files."))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        problems.append(Problem(line, "", "The file is not UTF-8 text. In Excel, save it as 'CSV UTF-8 "
                                          "(Comma delimited)' and try again."))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        problems.append(Problem(1, "", "The file is empty."))
        return None
    except csv.Error as exc:
        problems.append(Problem(1, "", f"The file is not a readable CSV file ({exc})."))
        return None
    return header, reader
