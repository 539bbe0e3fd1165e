"""A SIP2 server nobody here wrote the answers of: it replays recorded answers byte for byte.

    python tests/sip2/replay.py tests/sip2/data/recorded.sip

Each request gets the recorded answer for its code (tests/sip2/data/recorded.sip says where the
answers come from), exactly as recorded, then a carriage return; a 97 gets the last answer again.
Prints `port N` when it listens. Every request is appended to `--log` for the test to read.
"""

from __future__ import annotations

import argparse
import socketserver
from pathlib import Path


def load(path: Path) -> dict[str, bytes]:
    """Return request code -> recorded answer bytes."""
    answers = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, _, answer = line.partition("\t")
            answers[code] = answer.encode("utf-8")
    return answers


def main() -> None:
    """Serve until killed."""
    ap = argparse.ArgumentParser()
    ap.add_argument("transcript")
    ap.add_argument("--log", default="")
    ap.add_argument("--crlf-only", action="store_true", help="read only frames ending in CR LF")
    args = ap.parse_args()
    answers = load(Path(args.transcript))

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            last = b""
            buffer = b""
            while True:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                buffer += chunk
                end = b"\r\n" if args.crlf_only else b"\r"
                while end in buffer:
                    frame, _, buffer = buffer.partition(end)
                    frame = frame.lstrip(b"\n")
                    if args.log:
                        with open(args.log, "ab") as f:
                            f.write(frame + b"\n")
                    code = frame[:2].decode("ascii", "replace")
                    answer = last if code == "97" else answers.get(code)
                    if answer is None:
                        continue  # not in the transcript: no answer, as a silent server
                    last = answer
                    self.request.sendall(answer + b"\r")

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as server:
        print(f"port {server.server_address[1]}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
