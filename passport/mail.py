"""Outgoing email. With ``MAIL_SERVER`` unset, messages are printed to the console (development).

Callers queue messages during a request or command and ``send`` them after the commit, so a mail is
never sent for a change that was rolled back.
"""
from __future__ import annotations

import smtplib
import sys
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr

from passport.escaping import header_text

EXTENSION_KEY = "passport.mail"


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
