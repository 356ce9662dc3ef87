"""A real SMTP server for tests (PyPI aiosmtpd) that offers STARTTLS with the given certificate and refuses
mail before it; every message received is written as one JSON line: envelope, whether TLS was on, the decoded
subject and its text and HTML parts. argv: log path, cert file, key file. Prints its port."""
import email, email.policy, json, socket, ssl, sys, time
from aiosmtpd.controller import Controller

log_path, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        parts = {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}
        with open(log_path, "a") as f:
            f.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": session.ssl is not None,
                                "subject": str(message["subject"]), "messageId": str(message["message-id"]),
                                "text": parts.get("text/plain"), "html": parts.get("text/html")}) + "\n")
        return "250 OK"


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
controller.start()
print(port, flush=True)
while True:
    time.sleep(3600)
