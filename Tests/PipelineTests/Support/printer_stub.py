"""A stand-in for a Zebra printer's raw port: accepts connections, reads each to the end and
appends it to OUTFILE as one JSON line (hex of the bytes). `--delay` reads slowly (a busy printer).

  printer_stub.py PORT OUTFILE [--delay SECONDS]
"""
import json
import socket
import sys
import time

port, out = int(sys.argv[1]), sys.argv[2]
delay = float(sys.argv[sys.argv.index("--delay") + 1]) if "--delay" in sys.argv else 0.0
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(16)
print("listening", flush=True)
while True:
    connection, _ = server.accept()
    time.sleep(delay)
    data = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    connection.close()
    with open(out, "a") as f:
        f.write(json.dumps({"bytes": data.hex()}) + "\n")
