"""The check log writer for the verify API: rows are buffered per process and written in batches by a
background thread, so a verification costs no database round trip at all.

A crash can lose the rows of the last flush interval (a quarter of a second by default); nothing else is
written this way. Accepting a passport and the CLI log in their own transaction instead.

While the database is unavailable the rows wait here and are written once it is back (retried with
back-off, up to ``MAX_RETRY_SECONDS`` apart). Past ``MAX_BUFFERED`` rows the oldest are dropped; every
dropped row is counted (``dropped()``) and logged as a warning. A verification never fails because its
check could not be logged.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading

import sqlalchemy as sa

from passport.verify.models import VerificationCheck

log = logging.getLogger(__name__)
EXTENSION_KEY = "passport.verify.checklog"
MAX_BUFFERED = 20_000  # if the database is down for long, drop the oldest rather than grow without end
MAX_RETRY_SECONDS = 5.0
_dropped = 0
_dropped_lock = threading.Lock()


def count_dropped(n: int) -> None:
    """Count ``n`` check-log rows that could not be written (and say so in the log)."""
    global _dropped
    with _dropped_lock:
        _dropped += n
        total = _dropped
    log.warning("Dropped %d verify check-log row(s) (database unavailable); %d dropped since start.", n, total)


def dropped() -> int:
    """How many check-log rows this process has dropped since it started."""
    return _dropped


class CheckLogWriter:
    def __init__(self, engine: sa.Engine, interval: float = 0.25, batch: int = 500):
        self.engine, self.interval, self.batch = engine, interval, batch
        self._rows: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._failing = 0  # consecutive failed flushes (back-off, one warning per outage)

    def add(self, row: dict) -> None:
        """Queue one row (never blocks on the database)."""
        with self._lock:
            if self._pid != os.getpid():  # forked (gunicorn --preload): the parent's thread is not ours
                self._pid, self._thread, self._rows = os.getpid(), None, []
            self._rows.append(row)
            over = len(self._rows) - MAX_BUFFERED
            if over > 0:
                del self._rows[:over]
        if over > 0:
            count_dropped(over)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="verify-check-log", daemon=True)
                self._thread.start()
            if len(self._rows) >= self.batch and not self._failing:
                self._wake.set()

    def flush(self) -> int:
        """Write everything queued now; returns the number of rows written (0 on failure, rows kept)."""
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(VerificationCheck.__table__), rows)
        except Exception as exc:  # the database may be unavailable: keep the rows for the next attempt
            if not self._failing:
                log.warning("Could not write %d verify check-log rows (%s); they are kept and retried.",
                            len(rows), type(exc).__name__)
            self._failing += 1
            with self._lock:
                self._rows[:0] = rows
                over = len(self._rows) - MAX_BUFFERED
                if over > 0:
                    del self._rows[:over]
            if over > 0:
                count_dropped(over)
            return 0
        if self._failing:
            log.warning("Verify check-log rows are being written again (%d rows written).", len(rows))
        self._failing = 0
        return len(rows)

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def _run(self) -> None:
        while True:
            wait = self.interval if not self._failing else min(MAX_RETRY_SECONDS, self.interval * 2 ** self._failing)
            self._wake.wait(wait)
            self._wake.clear()
            self.flush()


_writers: list[CheckLogWriter] = []


def writer_for(app) -> CheckLogWriter:
    """The app's writer (one per app and process)."""
    writer = app.extensions.get(EXTENSION_KEY)
    if writer is None:
        from passport.db import get_engine

        writer = CheckLogWriter(get_engine(app), interval=float(app.config["VERIFY_CHECK_LOG_INTERVAL"]))
        app.extensions[EXTENSION_KEY] = writer
        _writers.append(writer)
    return writer


@atexit.register
def _flush_all() -> None:  # pragma: no cover - process exit
    for writer in _writers:
        try:
            writer.flush()
        except Exception:
            pass
