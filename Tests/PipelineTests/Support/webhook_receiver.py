"""A webhook endpoint for tests: records every POST body as one JSON line.
Fails the first N requests with 503 to exercise retries, and every alert of the
error class given as the optional third argument. Prints its port."""
import http.server, json, sys, threading

log_path, fail_first = sys.argv[1], int(sys.argv[2])
always_failing_class = sys.argv[3] if len(sys.argv) > 3 else None
count = {"n": 0}
lock = threading.Lock()

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            count["n"] += 1
            failing = count["n"] <= fail_first or json.loads(body).get("errorClass") == always_failing_class
            if not failing:
                with open(log_path, "a") as f:
                    f.write(json.dumps(json.loads(body)) + "\n")
        self.send_response(503 if failing else 204)
        self.end_headers()

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
