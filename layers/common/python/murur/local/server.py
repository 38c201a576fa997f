"""One local stack shared by several commands: `python -m murur.local serve` holds it.

moto's state lives in the memory of one process, so a long-lived process keeps the stack and the
operator commands (`upload`, `frames`, `violations`, `outbox`, `reviews`, `decide`) run in it:
the command-line client sends the command line over a local connection (the standard library's
multiprocessing.connection, bound to 127.0.0.1, with a random key stored in a file readable only by
the user) and prints what comes back.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import threading
from multiprocessing.connection import Client, Listener
from pathlib import Path
from typing import Any

STATE_DIR = Path(os.environ.get("MURUR_LOCAL_DIR", "out/local-stack"))
SERVER_FILE = STATE_DIR / "server.json"


class NoServer(Exception):
    """No `python -m murur.local serve` is running for this directory."""


def serve(shell: Any, *, port: int = 0, ready: threading.Event | None = None) -> None:
    """Answer command lines with the shell's output until a client sends `stop`."""
    key = secrets.token_bytes(32)
    with Listener(("127.0.0.1", port), authkey=key) as listener:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        SERVER_FILE.touch(mode=0o600)
        SERVER_FILE.write_text(json.dumps({"port": listener.address[1], "key": key.hex(), "pid": os.getpid()}))
        if ready is not None:
            ready.set()
        try:
            while True:
                with listener.accept() as connection:
                    line = connection.recv()
                    if line == "stop":
                        connection.send("local stack stopped\n")
                        return
                    output = io.StringIO()
                    shell.stdout = output
                    try:
                        shell.onecmd(line)
                    except Exception as error:  # noqa: BLE001 - report to the client, keep serving
                        output.write(f"error: {type(error).__name__}: {error}\n")
                    connection.send(output.getvalue())
        finally:
            with contextlib.suppress(FileNotFoundError):
                SERVER_FILE.unlink()


def send(line: str) -> str:
    """Run one command line in the running local stack; raises NoServer if there is none."""
    try:
        settings = json.loads(SERVER_FILE.read_text())
    except FileNotFoundError as error:
        raise NoServer from error
    try:
        with Client(("127.0.0.1", settings["port"]), authkey=bytes.fromhex(settings["key"])) as connection:
            connection.send(line)
            return connection.recv()
    except ConnectionRefusedError as error:
        raise NoServer from error
