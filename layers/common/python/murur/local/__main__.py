"""python -m murur.local: the local stack from the command line.

    python -m murur.local demo --out out/demo [--frames 36]     # the whole chain on generated frames
                               [--auto-issue-threshold 0.99]    # sure reads skip the officer

    python -m murur.local serve [--demo-frames 12] [--http-port 8080] &   # keep one local stack running;
                                                                # its HTTP API on the port, Swagger UI at /swagger
    python -m murur.local token citizen 1234567890 | token officer officer-7   # a token for the local API
    python -m murur.local upload FRAME.jpg --camera NKC-TVZ-01 --meta violation-type=SPEEDING
    python -m murur.local frames | violations | outbox | reviews | redrive-notices
    python -m murur.local pay MR26-7KQ2M9XA4B 4000 [--provider masrvi]   # a wallet's signed payment webhook
    python -m murur.local payments-report [--from 2026-11-01] [--to 2026-11-30] [--provider bankily]
    python -m murur.local decide FRAME_ID confirm | correct PLATE | discard
    python -m murur.local analytics                             # violations counted, black spots, the report
    python -m murur.local stop

    python -m murur.local shell                                 # the same commands, interactively

The local stack is moto, in the memory of one process. `serve` keeps it (with the demo registry)
until `stop`; the operator commands run in it. Without a running `serve`, `upload` provisions a
fresh stack for that one frame and prints what happened.
"""

from __future__ import annotations

import argparse
import cmd
import os
import shlex
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from murur.local import server
from murur.local.camera import CameraUpload, camera_metadata, frame_key
from murur.local.demo import (
    PlannedFrame,
    _describe,
    _error_message,
    plan_frames,
    process,
    run_demo,
    template_decimal,
)
from murur.local.operator import decide_review, table_items, wait_after_decision
from murur.local.seed import CAMERAS, VEHICLES, seed_registry
from murur.local.stack import LocalStack
from murur.ops.redrive import redrive_local
from murur.local.wallets import provider_payload, signed_delivery, webhook_path
from murur.payments import report as payments_report
from murur.payments.notice import Provider
from murur.reviews import InvalidDecision, ReviewNotPending
from murur.workflow import ViolationType


def _upload_from_file(path: Path, camera: str, meta: list[str], vendor_frame_id: str | None) -> CameraUpload:
    pairs = {name.lower().replace("_", "-"): value for name, value in (item.split("=", 1) for item in meta)}
    captured_at = datetime.fromisoformat(pairs.pop("captured-at")) if "captured-at" in pairs else datetime.now(UTC)
    violation_type = ViolationType(pairs.pop("violation-type", "SPEEDING").upper())
    metadata = camera_metadata(captured_at, violation_type)
    metadata.update(pairs)
    extension = path.suffix.lstrip(".").lower() or "jpg"
    content_type = "image/png" if extension == "png" else "image/jpeg"
    key = frame_key(camera, captured_at, vendor_frame_id or path.stem, extension)
    return CameraUpload(key, path.read_bytes(), metadata, content_type)


class OperatorShell(cmd.Cmd):
    """Operator commands on one local stack; `help` lists them."""

    intro = "Local Murur stack ready (demo registry seeded). Type help or ? to list commands, quit to leave."
    prompt = "murur> "

    def __init__(self, stack: LocalStack, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stack = stack

    def emptyline(self) -> bool:
        return False

    def _say(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def do_upload(self, line: str) -> None:
        """upload FRAME --camera CAMERA_ID [--id VENDOR_FRAME_ID] [--meta key=value ...]"""
        parser = argparse.ArgumentParser(prog="upload", add_help=False)
        parser.add_argument("frame", type=Path)
        parser.add_argument("--camera", required=True)
        parser.add_argument("--id")
        parser.add_argument("--meta", nargs="*", default=[])
        try:
            args = parser.parse_args(shlex.split(line))
        except SystemExit:
            self._say(self.do_upload.__doc__ or "")
            return
        upload = _upload_from_file(args.frame, args.camera, args.meta, args.id)
        outcome = process(self.stack, PlannedFrame(upload, "operator upload"))
        self._say(f"{upload.key}: {_describe(outcome)}  [{outcome.status}]")

    def do_frames(self, line: str) -> None:
        """frames: every frame received, with its status and reason."""
        for frame in sorted(table_items(self.stack, "FramesTable"), key=lambda f: str(f.get("received_at"))):
            reason = f"  {frame.get('reason_code')}: {_error_message(frame.get('reason'))}" if frame.get("reason_code") else ""
            self._say(f"{frame['frame_id']:<28} {frame['status']:<17}{reason}")

    def do_violations(self, line: str) -> None:
        """violations: every violation issued."""
        for v in sorted(table_items(self.stack, "ViolationsTable"), key=lambda v: v["violation_id"]):
            self._say(f"{v['violation_id']}  {v['plate']:<9} {v['violation_type']:<20} {v['amount_mru']:>6} MRU  "
                      f"{v.get('status', '')}  due {str(v.get('deadline_at', ''))[:10]}")

    def do_outbox(self, line: str) -> None:
        """outbox: the SMS messages sent, with their text."""
        for sms in self.stack.sms_outbox():
            self._say(f"to {sms['phone_number']}:\n  " + sms["message"].replace("\n", "\n  "))

    def do_redrive_notices(self, line: str) -> None:
        """redrive_notices: send again the notices parked in the undelivered-notices queue (murur.ops.redrive)."""
        report = redrive_local(self.stack)
        self._say(" ".join(f"{name}={count}" for name, count in asdict(report).items()))

    def do_pay(self, line: str) -> None:
        """pay REFERENCE AMOUNT [--provider bankily|masrvi|sedad] [--transaction ID] [--phone 8 DIGITS]:
        a wallet's signed payment webhook, as the provider sends it, through the local HTTP API."""
        parser = argparse.ArgumentParser(prog="pay", add_help=False)
        parser.add_argument("reference")
        parser.add_argument("amount", type=int)
        parser.add_argument("--provider", default="bankily", choices=[p.value for p in Provider])
        parser.add_argument("--transaction", default=f"LOCAL-{datetime.now(UTC):%Y%m%d%H%M%S%f}")
        parser.add_argument("--phone", default="44998877")
        try:
            args = parser.parse_args(shlex.split(line))
        except SystemExit:
            self._say(self.do_pay.__doc__ or "")
            return
        headers, body = signed_delivery(args.provider, provider_payload(
            args.provider, transaction_id=args.transaction, reference=args.reference, amount_mru=args.amount,
            paid_at=datetime.now(UTC).replace(microsecond=0), phone_local=args.phone))
        answer = self.stack.http("POST", webhook_path(args.provider), headers=headers, body=body)
        self._say(f"{answer.status} {answer.body}")

    def do_payments_report(self, line: str) -> None:
        """payments_report [--from DAY] [--to DAY] [--provider P] [--json]: wallet payments applied, unmatched, totals."""
        try:
            payments_report.main(["--table", self.stack.name("PaymentsTable"), *shlex.split(line)],
                                 dynamodb=self.stack.client("dynamodb"), stream=self.stdout)
        except SystemExit:
            self._say(self.do_payments_report.__doc__ or "")

    def do_analytics(self, line: str) -> None:
        """analytics [OUT_DIR]: count new violations from the stream, assess black spots, write the report."""
        from murur.local.analytics_demo import demo_report

        counted = sum(delivery.records_delivered for delivery in self.stack.deliver_streams())
        page, data = demo_report(self.stack, Path(line.strip() or "out/local-stack/report"))
        spots = [spot["camera_id"] for spot in (data.black_spots or {}).get("black_spots", [])]
        self._say(f"{counted} new violations counted; black spots: {', '.join(spots) or 'none'}\nReport: {page.resolve()}")

    def do_reviews(self, line: str) -> None:
        """reviews: review requests and their status."""
        for review in table_items(self.stack, "ReviewsTable"):
            best = ((review.get("state") or {}).get("recognition") or {}).get("best") or {}
            self._say(f"{review['frame_id']:<28} {review['status']:<8} model read {best.get('text', '-')} "
                      f"({float(best.get('confidence', 0)):.2f})")

    def do_decide(self, line: str) -> None:
        """decide FRAME_ID confirm | correct PLATE | discard"""
        words = line.split()
        if len(words) < 2 or words[1].lower() not in {"confirm", "correct", "discard"}:
            self._say(self.do_decide.__doc__ or "")
            return
        outcome = {"confirm": "CONFIRMED", "correct": "CORRECTED", "discard": "DISCARDED"}[words[1].lower()]
        try:
            execution_arn = decide_review(self.stack, words[0], outcome,
                                          plate_text=words[2] if len(words) > 2 else None)
        except ReviewNotPending:
            self._say(f"cannot decide: no pending review for frame {words[0]}")
            return
        except InvalidDecision as error:
            self._say(f"cannot decide: {error}")
            return
        wait_after_decision(self.stack, execution_arn)
        self._say(f"{words[0]}: {outcome}; the frame is now {self._frame_status(words[0])}")

    def _frame_status(self, frame_id: str) -> str:
        frame = next((f for f in table_items(self.stack, "FramesTable") if f["frame_id"] == frame_id), {})
        return str(frame.get("status", "unknown"))

    def do_registry(self, line: str) -> None:
        """registry: the demo cameras and vehicles."""
        for camera in CAMERAS:
            self._say(f"camera  {camera.camera_id:<12} {camera.status:<8} {camera.name}")
        for vehicle in VEHICLES:
            self._say(f"vehicle {vehicle.plate:<12} {vehicle.language}  {'phone' if vehicle.owner_phone else 'no phone'}")

    def do_token(self, line: str) -> None:
        """token citizen NNI | token officer OFFICER_ID: a JWT the local HTTP API accepts (this process only)"""
        from murur.local.identity import citizen_token, officer_token

        words = line.split()
        if len(words) != 2 or words[0] not in {"citizen", "officer"}:
            self._say(self.do_token.__doc__ or "")
            return
        self._say(citizen_token(words[1]) if words[0] == "citizen" else officer_token(words[1]))

    def do_quit(self, line: str) -> bool:
        """quit: leave (the local stack and its state go away)."""
        return True

    do_EOF = do_quit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m murur.local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="generate frames and run them through the whole chain")
    demo.add_argument("--out", type=Path, default=Path("out/demo"))
    demo.add_argument("--frames", type=int, default=36)
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--auto-issue-threshold", type=float, metavar="0..1",
                      help="read confidence from which a violation is issued without an officer "
                           "(the template's AutoIssueThreshold; default: the model card's)")
    upload = commands.add_parser("upload", help="run one frame through a fresh local stack")
    upload.add_argument("frame", type=Path)
    upload.add_argument("--camera", required=True, help=f"e.g. {CAMERAS[0].camera_id}")
    upload.add_argument("--id", help="the vendor's frame id (default: the file name)")
    upload.add_argument("--meta", nargs="*", default=[], help="camera metadata as key=value")
    commands.add_parser("shell", help="an operator session on one local stack (reads commands from stdin)")
    serve = commands.add_parser("serve", help="keep one local stack running for the operator commands")
    serve.add_argument("--demo-frames", type=int, default=0, help="first run this many generated frames through it")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--http-port", type=int, default=8080,
                       help="the HTTP API (routes and authorizers of template.yaml) on 127.0.0.1; 0: none")
    token = commands.add_parser("token", help="a JWT for the local HTTP API: citizen NNI | officer ID (needs `serve`)")
    token.add_argument("kind", choices=["citizen", "officer"])
    token.add_argument("subject")
    for name, text in [("frames", "every frame received, with its status"), ("violations", "violations issued"),
                       ("outbox", "the SMS messages sent"), ("reviews", "review requests"),
                       ("redrive-notices", "send again the notices parked as undelivered"),
                       ("analytics", "count new violations, assess black spots, write the report to "
                                     "out/local-stack/report/"),
                       ("stop", "stop the running local stack")]:
        commands.add_parser(name, help=f"{text} (needs `serve`)")
    pay = commands.add_parser("pay", help="pay a violation by wallet: a signed webhook as the provider sends it "
                                          "(needs `serve`)")
    pay.add_argument("reference")
    pay.add_argument("amount", type=int)
    pay.add_argument("--provider", default="bankily")
    pay.add_argument("--transaction")
    pay.add_argument("--phone", help="the payer's 8 local digits")
    payments = commands.add_parser("payments-report", help="wallet payments: applied, unmatched (with reasons), "
                                                           "totals per provider and day (needs `serve`)")
    payments.add_argument("--from", dest="first", help="first day (UTC), default today")
    payments.add_argument("--to", dest="last", help="last day (UTC), default --from")
    payments.add_argument("--provider")
    decide = commands.add_parser("decide", help="decide a review: confirm | correct PLATE | discard (needs `serve`)")
    decide.add_argument("frame_id")
    decide.add_argument("decision", nargs="+")
    args = parser.parse_args(argv)

    if args.command == "demo":
        if args.auto_issue_threshold is not None:
            try:
                template_decimal(args.auto_issue_threshold)
            except ValueError as exc:
                parser.error(str(exc))
        run_demo(args.out, args.frames, args.seed, auto_issue_threshold=args.auto_issue_threshold)
        return 0
    if args.command == "upload":
        line = (f"upload {shlex.quote(str(args.frame.resolve()))} --camera {shlex.quote(args.camera)}"
                + (f" --id {shlex.quote(args.id)}" if args.id else "")
                + (" --meta " + " ".join(shlex.quote(m) for m in args.meta) if args.meta else ""))
        try:
            print(server.send(line), end="")
            return 0
        except server.NoServer:
            with LocalStack(log_level="CRITICAL") as stack:
                seed_registry(stack)
                shell = OperatorShell(stack)
                shell.onecmd(line)
                for command in ("violations", "outbox", "reviews"):
                    print(f"-- {command}")
                    shell.onecmd(command)
            return 0
    if args.command in {"frames", "violations", "outbox", "reviews", "decide", "redrive-notices", "stop", "token",
                        "payments-report", "pay", "analytics"}:
        line = " ".join(["payments_report", *(f"{flag} {shlex.quote(value)}" for flag, value in (
            ("--from", args.first), ("--to", args.last), ("--provider", args.provider)) if value)]) \
            if args.command == "payments-report" \
            else " ".join(["pay", shlex.quote(args.reference), str(args.amount), *(
                f"{flag} {shlex.quote(value)}" for flag, value in (("--provider", args.provider),
                ("--transaction", args.transaction), ("--phone", args.phone)) if value)]) \
            if args.command == "pay" \
            else args.command.replace("-", "_") if args.command not in {"decide", "token"} \
            else f"decide {args.frame_id} {' '.join(args.decision)}" if args.command == "decide" \
            else f"token {args.kind} {shlex.quote(args.subject)}"
        try:
            print(server.send(line), end="")
        except server.NoServer:
            print("No local stack is running here: start one with `python -m murur.local serve &` "
                  "(or use `python -m murur.local shell`).", file=sys.stderr)
            return 2
        return 0
    with LocalStack(log_level="CRITICAL") as stack:
        seed_registry(stack)
        shell = OperatorShell(stack)
        if args.command == "serve":
            if args.demo_frames:
                planned = plan_frames(args.demo_frames, seed=2026)
                for number, frame in enumerate(planned, start=1):
                    outcome = process(stack, frame)
                    print(f"  [{number}/{len(planned)}] {frame.upload.key}: {_describe(outcome)}", flush=True)
            if args.http_port:
                from murur.local.gateway import serve_http

                serve_http(lambda method, path, headers, body: stack.http(method, path, headers=headers, body=body),
                           args.http_port)
                print(f"HTTP API on http://127.0.0.1:{args.http_port}/ (Swagger UI: /swagger); "
                      "tokens: python -m murur.local token citizen NNI | officer ID", flush=True)
            print(f"Local stack running (pid {os.getpid()}); commands: python -m murur.local "
                  "upload|frames|violations|outbox|reviews|decide|token|stop", flush=True)
            server.serve(shell, port=args.port)
            return 0
        if not sys.stdin.isatty():
            shell.intro = None
            shell.prompt = ""
        shell.cmdloop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
