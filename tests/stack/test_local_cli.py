"""The operator commands of `python -m murur.local`, on one local stack and through `serve`."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pytest

from murur.local import server
from murur.local.__main__ import OperatorShell, main


def _run(shell: OperatorShell, line: str) -> str:
    shell.stdout = io.StringIO()
    shell.onecmd(line)
    return shell.stdout.getvalue()


def test_an_operator_upload_of_an_empty_file_is_rejected_and_listed(stack: Any, tmp_path: Path) -> None:
    frame = tmp_path / "F000042.jpg"
    frame.write_bytes(b"")
    shell = OperatorShell(stack)
    answer = _run(shell, f"upload {frame} --camera NKC-TVZ-01 --meta captured-at=2026-11-28T09:30:00+00:00 "
                         "violation-type=RED_LIGHT signal-phase=RED")
    assert "rejected: EMPTY_FILE" in answer
    listed = _run(shell, "frames")
    assert "NKC-TVZ-01-F000042" in listed and "REJECTED" in listed
    assert _run(shell, "violations") == ""
    assert "no pending review" in _run(shell, "decide NKC-TVZ-01-F000042 confirm")


def test_serve_answers_commands_until_stopped(stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "STATE_DIR", tmp_path)
    monkeypatch.setattr(server, "SERVER_FILE", tmp_path / "server.json")
    shell = OperatorShell(stack)
    ready = threading.Event()
    serving = threading.Thread(target=server.serve, args=(shell,), kwargs={"ready": ready}, daemon=True)
    serving.start()
    assert ready.wait(10)
    assert (tmp_path / "server.json").stat().st_mode & 0o077 == 0  # the key is the user's alone
    assert "NKC-TVZ-01" in server.send("registry")
    assert server.send("stop") == "local stack stopped\n"
    serving.join(10)
    assert not serving.is_alive()
    with pytest.raises(server.NoServer):
        server.send("frames")


def test_commands_that_need_a_running_stack_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(server, "SERVER_FILE", tmp_path / "server.json")
    assert main(["violations"]) == 2
    assert "murur.local serve" in capsys.readouterr().err
