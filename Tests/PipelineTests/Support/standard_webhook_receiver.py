"""Webhook endpoints for tests, verified by the Standard Webhooks reference library (PyPI standardwebhooks).
argv: log path, secret. Paths: /ok answers 204; /flaky answers 503 to the first try of each message id (after 1.1 s, so that the retry is signed in a later second), then 204;
/slow sleeps 5 s before answering. Every request is logged as one JSON line (path, headers, verified, body).
Prints its port."""
import http.server, json, sys, threading, time
from standardwebhooks.webhooks import Webhook

log_path, secret = sys.argv[1], sys.argv[2]
verifier = Webhook(secret)
seen = set()
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            verifier.verify(body, headers)
            verified = True
        except Exception as error:  # noqa: BLE001 - the test reads the reason
            verified = str(error)
        message = headers.get("webhook-id")
        status = 204 if verified is True else 400
        if self.path == "/slow":
            time.sleep(5)
        with lock:
            first_try = self.path == "/flaky" and verified is True and message not in seen
        if first_try:
            time.sleep(1.1)
        with lock:
            if self.path == "/flaky" and verified is True and message not in seen:
                seen.add(message)
                status = 503
            with open(log_path, "a") as f:
                f.write(json.dumps({"path": self.path, "id": message, "timestamp": headers.get("webhook-timestamp"),
                                    "signature": headers.get("webhook-signature"), "verified": verified, "status": status,
                                    "body": json.loads(body)}) + "\n")
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
