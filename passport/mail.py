"""Outgoing email. With ``MAIL_SERVER`` unset, messages are printed to the console (development).

Callers queue messages during a request or command and ``send`` them after the commit, so a mail is
never sent for a change that was rolled back.

Bulk mail (reminders) goes through the outbox, ``core_outbox``: one row per message with a unique key,
written in the same transaction as whatever made it due, and delivered by ``deliver_outbox`` -- inline or
by job-queue workers (``passport.jobs``). Delivery marks each row ``sending`` and commits *before* it ends
the SMTP DATA with the final dot, then ``sent`` once the server accepts it. A worker killed before that
commit leaves a half-written DATA that the server throws away, and the row is sent again later; a worker
killed after it has handed the message over (the dot follows at once), so the row is never sent again.
Nothing is lost and nothing is sent twice, except in the few microseconds between that commit and the
dot reaching the socket (such a row stays ``sending``: ``passport jobs outbox`` lists them for a person to check).
"""
from __future__ import annotations

import re
import smtplib
import sys
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from passport.db import Base, UTCDateTime, utcnow
from passport.escaping import header_text

EXTENSION_KEY = "passport.mail"
MAX_ATTEMPTS = 8


class OutboxMail(Base):
    """A message waiting to be sent (``pending``), handed to the SMTP server (``sending``: the final dot
    follows the commit at once) or accepted by it (``sent``); ``failed`` after MAX_ATTEMPTS refusals."""
    __tablename__ = "core_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    to_email: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.String(300))


class Mailer:
    def __init__(self, config: dict):
        self.config = config

    def build(self, to: str, subject: str, body: str) -> Message:
        """A UTF-8 plain-text message. Built with the compat32 classes, about ten times faster than
        ``EmailMessage.set_content``, which matters when a reminder run sends tens of thousands.
        Header values pass ``escaping.header_text``: a line break in a course title or a name cannot add a header."""
        msg = MIMEText(body, "plain", "utf-8")
        name, address = parseaddr(self.config["MAIL_FROM"])
        msg["From"] = formataddr((name, address), charset="utf-8")
        msg["To"] = _header(header_text(to))
        msg["Subject"] = _header(header_text(subject))
        return msg

    def send_many(self, messages: list[Message]) -> int:
        """Send messages over one connection; returns how many were sent."""
        if not messages:
            return 0
        server = self.config.get("MAIL_SERVER")
        if not server:
            for m in messages:
                text = m.get_payload(decode=True).decode("utf-8")
                print(f"--- email to {m['To']}: {m['Subject']}\n{text}", file=sys.stderr)
            return len(messages)
        smtp_class = smtplib.SMTP_SSL if self.config.get("MAIL_USE_SSL") else smtplib.SMTP
        with smtp_class(server, int(self.config.get("MAIL_PORT") or 25), timeout=30) as smtp:
            if self.config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if self.config.get("MAIL_USERNAME"):
                smtp.login(self.config["MAIL_USERNAME"], self.config["MAIL_PASSWORD"] or "")
            for m in messages:
                smtp.send_message(m)
        return len(messages)

    def send(self, to: str, subject: str, body: str) -> None:
        self.send_many([self.build(to, subject, body)])

    def connect(self) -> smtplib.SMTP:
        server = self.config["MAIL_SERVER"]
        smtp_class = smtplib.SMTP_SSL if self.config.get("MAIL_USE_SSL") else smtplib.SMTP
        smtp = smtp_class(server, int(self.config.get("MAIL_PORT") or 25), timeout=30)
        import socket

        # The final dot goes in its own small write after the DATA text; without TCP_NODELAY, Nagle's
        # algorithm holds it back for the server's delayed ACK (about 40 ms a message).
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo_or_helo_if_needed()
        if self.config.get("MAIL_USE_TLS"):
            smtp.starttls()
            smtp.ehlo()
        if self.config.get("MAIL_USERNAME"):
            smtp.login(self.config["MAIL_USERNAME"], self.config["MAIL_PASSWORD"] or "")
        return smtp


def queue_mail(db: Session, rows: list[dict]) -> list[int]:
    """Add messages to the outbox (``{"key", "to_email", "subject", "body"}`` each) in the caller's
    transaction; a key already there is left alone. Returns the ids of the rows added."""
    if not rows:
        return []
    dialect = db.get_bind().dialect.name
    now = utcnow()
    values = [{"key": r["key"], "to_email": r["to_email"], "subject": r["subject"][:300], "body": r["body"],
               "state": "pending", "attempts": 0, "created_at": now} for r in rows]
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        ids: list[int] = []
        for i in range(0, len(values), 1000):
            stmt = (insert(OutboxMail).values(values[i:i + 1000]).on_conflict_do_nothing(index_elements=["key"])
                    .returning(OutboxMail.id))
            ids.extend(db.scalars(stmt))
        return ids
    ids = []
    for v in values:
        try:
            with db.begin_nested():
                row = OutboxMail(**v)
                db.add(row)
            ids.append(row.id)
        except sa.exc.IntegrityError:
            pass
    return ids


def pending_ids(db: Session, ids: list[int] | None = None) -> list[int]:
    q = sa.select(OutboxMail.id).where(OutboxMail.state == "pending").order_by(OutboxMail.id)
    if ids is not None:
        found: list[int] = []
        for i in range(0, len(ids), 500):
            found.extend(db.scalars(q.where(OutboxMail.id.in_(ids[i:i + 500]))))
        return found
    return list(db.scalars(q))


_EOL = re.compile(rb"(?:\r\n|\n|\r(?!\n))")
_DOT = re.compile(rb"(?m)^\.")


def _data_bytes(msg: Message) -> bytes:
    """The DATA payload as smtplib sends it (CRLF line ends, leading dots doubled), without the final dot."""
    import io
    from email.generator import BytesGenerator

    buf = io.BytesIO()
    BytesGenerator(buf, mangle_from_=False).flatten(msg, linesep="\r\n")
    data = _DOT.sub(b"..", _EOL.sub(b"\r\n", buf.getvalue()))
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def deliver_outbox(db: Session, mailer: "Mailer", ids: list[int], on_sent=None) -> dict:
    """Send the outbox rows ``ids`` that are still pending, over MAIL_CONNECTIONS (8) SMTP connections at
    once: one message on each, their DATA written, one commit claiming them all, then their final dots
    (see the module's docstring for why each message is sent exactly once). Commits as it goes. ``on_sent(n)`` is called
    after each batch with how many this call sent or failed in it. Returns ``{"sent": n, "skipped": n, "failed": n}``; raises if the SMTP server cannot
    be reached, so a job retries (rows not yet handed over stay pending)."""
    todo = pending_ids(db, ids)
    db.commit()
    sent = failed = 0
    skipped = len(ids) - len(todo)
    if not todo:
        return {"sent": 0, "skipped": skipped, "failed": 0}
    table = OutboxMail.__table__
    if not mailer.config.get("MAIL_SERVER"):  # development: print, then mark sent
        for i in range(0, len(todo), 500):
            rows = db.scalars(sa.select(OutboxMail).where(OutboxMail.id.in_(todo[i:i + 500]),
                                                          OutboxMail.state == "pending")).all()
            mailer.send_many([mailer.build(r.to_email, r.subject, r.body) for r in rows])
            db.execute(table.update().where(table.c.id.in_([r.id for r in rows])).values(state="sent", sent_at=utcnow()))
            db.commit()
            sent += len(rows)
            if on_sent:
                on_sent(len(rows))
        return {"sent": sent, "skipped": skipped, "failed": 0}
    pg = db.get_bind().dialect.name == "postgresql"
    sender = parseaddr(mailer.config["MAIL_FROM"])[1]
    width = max(1, int(mailer.config.get("MAIL_CONNECTIONS") or 8))
    conns = [mailer.connect() for _ in range(min(width, len(todo)))]
    reported = 0

    def lock_step(pairs, command):
        """Send one command on each connection, then read every reply (the round trips overlap)."""
        for smtp, row in pairs:
            smtp.putcmd(*command(row))
        return [(smtp, row, *smtp.getreply()) for smtp, row in pairs]

    try:
        for i in range(0, len(todo), 200):
            rows = db.execute(sa.select(table.c.id, table.c.to_email, table.c.subject, table.c.body)
                              .where(table.c.id.in_(todo[i:i + 200]), table.c.state == "pending")).all()
            db.commit()
            for j in range(0, len(rows), len(conns)):
                group = list(zip(conns, rows[j:j + len(conns)]))
                ready = []
                for step in (lambda r: ("mail", f"FROM:<{sender}>"),
                             lambda r: ("rcpt", f"TO:<{parseaddr(r.to_email)[1]}>"),
                             lambda r: ("data",)):
                    replies = lock_step(group, step)
                    group = []
                    for smtp, row, code, resp in replies:
                        if code in (250, 251, 354):
                            group.append((smtp, row))
                        else:
                            smtp.rset()
                            failed += _refused(db, row.id, code, resp)
                for smtp, row in group:
                    smtp.send(_data_bytes(mailer.build(row.to_email, row.subject, row.body)))
                # Claim the group before ending any DATA: a worker killed up to here leaves unfinished DATA
                # the server discards; once committed, the dots follow at once and the rows are never resent.
                if pg:
                    db.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
                won = set(db.scalars(table.update().where(table.c.id.in_([r.id for _, r in group]),
                                                          table.c.state == "pending")
                                     .values(state="sending", attempts=table.c.attempts + 1).returning(table.c.id)))
                db.commit()
                for k, (smtp, row) in enumerate(group):
                    if row.id in won:
                        smtp.send(b".\r\n")
                    else:  # another worker took it meanwhile: abandon this DATA on a fresh connection
                        smtp.close()
                        conns[conns.index(smtp)] = mailer.connect()
                        skipped += 1
                accepted = []
                for smtp, row in group:
                    if row.id not in won:
                        continue
                    code, resp = smtp.getreply()
                    if code == 250:
                        accepted.append(row.id)
                    else:
                        failed += _refused(db, row.id, code, resp)
                if accepted:
                    if pg:
                        db.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
                    db.execute(table.update().where(table.c.id.in_(accepted)).values(state="sent", sent_at=utcnow()))
                    db.commit()
                    sent += len(accepted)
            if on_sent:
                on_sent(sent + failed - reported)
                reported = sent + failed
    finally:
        for smtp in conns:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
    return {"sent": sent, "skipped": skipped, "failed": failed}


def _refused(db: Session, row_id: int, code: int, resp: bytes) -> int:
    """The server refused a message: a permanent (5xx) refusal or too many attempts fails it, otherwise it
    stays pending for the next run. Returns 1 if it failed for good."""
    table = OutboxMail.__table__
    row = db.execute(sa.select(table.c.attempts).where(table.c.id == row_id)).one()
    final = code >= 500 or row.attempts + 1 >= MAX_ATTEMPTS
    db.execute(table.update().where(table.c.id == row_id).values(
        state="failed" if final else "pending", attempts=table.c.attempts + 1,
        error=f"{code} {resp.decode('utf-8', 'replace')}"[:300]))
    db.commit()
    return 1 if final else 0


def _header(value: str):
    """ASCII stays as it is; runs of non-ASCII words become RFC 2047 encoded words (as the modern policy does)."""
    if value.isascii():
        return value
    header, run, ascii_run = Header(), [], None
    for word in value.split(" "):
        if run and word.isascii() != ascii_run:
            header.append(" ".join(run), "us-ascii" if ascii_run else "utf-8")
            run = []
        run.append(word)
        ascii_run = word.isascii()
    header.append(" ".join(run), "us-ascii" if ascii_run else "utf-8")
    return header


def init_app(app) -> None:
    if app.config.get("ENV_NAME") == "production" and not app.config.get("MAIL_SERVER"):
        app.logger.warning("PASSPORT_MAIL_SERVER is not set: emails (reset links, reminders) are only logged.")
    app.extensions[EXTENSION_KEY] = Mailer(app.config)


def get_mailer(app) -> Mailer:
    return app.extensions[EXTENSION_KEY]
