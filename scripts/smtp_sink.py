#!/usr/bin/env python3
"""An SMTP relay for the notice tests: each message it accepts is written, decoded, to
OUT_DIR/<n>.json ({"to", "subject", "body"}). A recipient whose local part starts with
"tempfail" gets 451 (try again later), one starting with "bounce" gets 550 (no such mailbox).
It prints its port on the first line, then serves until stdin closes.

    python smtp_sink.py OUT_DIR
"""
import email
import email.policy
import json
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 mailbox busy, try again later"
        if local.startswith("bounce"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        record = {
            "from": str(msg["from"]),
            "to": envelope.rcpt_tos,
            "subject": str(msg["subject"]),
            "body": body.get_content() if body is not None else "",
        }
        with self.lock:
            self.n += 1
            path = os.path.join(self.out, f"{self.n:04}.json")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, path)
        return f"250 2.0.0 queued as sink-{self.n}"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    # The controller checks its server by connecting to the port, so it needs a real one.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    c = Controller(Sink(out), hostname="127.0.0.1", port=port)
    c.start()
    print(port, flush=True)
    sys.stdin.read()
    c.stop()


if __name__ == "__main__":
    main()
