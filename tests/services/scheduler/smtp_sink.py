#!/usr/bin/env python3
"""A local SMTP server for the scheduler's mail tests, on Debian's python3-aiosmtpd.

  smtp_sink.py --listen 127.0.0.1:2525 --out DIR [--tls-cert CERT --tls-key KEY] [--auth USER:PASS]

Every accepted message is saved as DIR/<n>-<pid>.eml (the raw bytes) and DIR/<n>-<pid>.json:
the envelope and what Python's email package (an implementation independent of Anken's)
decodes from the message: the RFC 2047 subject, Message-ID, content type, charset, transfer
encoding and the decoded body text. Files are written under a temporary name and renamed, so a
reader never sees half a file.

Recipients whose local part starts with "reject" are refused with 550 (a permanent failure),
those starting with "tempfail" with 451 (a transient one). With --tls-cert/--tls-key the server
offers STARTTLS and requires it; with --auth it requires AUTH with that user and password.
Prints "ready" once it listens; stops on SIGTERM.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, out):
        self.out = out
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("tempfail"):
            return "451 4.3.0 <%s>: Temporary failure, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "date": str(msg["Date"]),
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "mime_version": str(msg["MIME-Version"]),
            "content_type": msg.get_content_type(),
            "charset": msg.get_content_charset(),
            "transfer_encoding": str(msg["Content-Transfer-Encoding"]),
            "body": msg.get_content(),
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
        }
        base = os.path.join(self.out, "%06d-%d" % (next(self.counter), os.getpid()))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(raw)
        os.replace(base + ".eml.tmp", base + ".eml")
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="host:port")
    parser.add_argument("--out", required=True, help="folder for received messages")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--auth", help="USER:PASS required for AUTH")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)

    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)

    authenticator = None
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok)

    handler = Sink(args.out)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(handler, tls_context=tls, require_starttls=tls is not None,
                    authenticator=authenticator, auth_required=authenticator is not None,
                    auth_require_tls=tls is not None)

    server = loop.run_until_complete(
        loop.create_server(factory, host=host, port=int(port), reuse_address=True))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    print("ready", flush=True)
    loop.run_forever()
    server.close()
    loop.run_until_complete(server.wait_closed())


if __name__ == "__main__":
    main()
