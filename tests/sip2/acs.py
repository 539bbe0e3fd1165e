"""A small library system behind pysip2's SIP2 server (the ACS), run as its own process in tests.

    python tests/sip2/acs.py --port 0 --encoding gb18030 --terminator crlf --journal j.jsonl

It prints `port N` when it listens. The library is in memory: the patrons and books below, plus
`--lent-at-desk BARCODE=PATRON` for books lent at the desk meanwhile. Every checkout, checkin and
renew it takes is appended to the journal (one JSON line each) so that tests can count them.
Fault injection: `--corrupt BARCODE` spoils the first answer that names that book (the kiosk must
ask again with 97); `--malformed BARCODE` answers a request about it with a broken message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import ssl
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import SocketAttribute
from anyio.streams.tls import TLSListener
from pysip2 import (
    ACSStatusResponse,
    CheckinResponse,
    CheckoutResponse,
    EndSessionResponse,
    ItemInformationResponse,
    LoginResponse,
    PatronInformationResponse,
    PatronStatusResponse,
    RenewResponse,
    calculate_checksum,
)
from pysip2 import routes as r
from pysip2.server import SIP2Server

BLANK = " " * 14


def status(*flags: int) -> str:
    """Return a 14-character patron status with Y at the given positions."""
    return "".join("Y" if i in flags else " " for i in range(14))


# id -> (name, patron status, BL, fines, screen message)
PATRONS: dict[str, tuple[str, str, str, str, str]] = {
    "P001": ("王小明", BLANK, "Y", "", ""),
    "P002": ("Lily Chen", BLANK, "Y", "", ""),
    "P003": ("张伟", status(0, 1, 2, 3), "Y", "", "Blocked: please see the librarian"),
    "P004": ("李娜", status(0, 4), "Y", "", "Card reported lost"),
    "P005": ("刘洋", status(0, 5), "Y", "", "Too many items checked out"),
    "P006": ("陈静", status(0, 10), "Y", "12.50", "Fines of 12.50 outstanding"),
    "0F00A1B2C3": ("李小红", BLANK, "Y", "", ""),  # an RFID card's UID as the patron's id
}
TITLES = {
    "B001": "小王子",
    "B002": "Charlotte's Web",
    "B003": "西游记",
    "B004": "The Hobbit",
    "B005": "窗边的小豆豆",
    "B006": "Matilda",
    "B007": "草房子",
    "B008": "Holes",
    "B009": "Wonder",
    "B666": "Reference atlas",  # never lent
}


class Library:
    """Loans of the in-memory library, and the journal of what it was asked."""

    def __init__(self, journal: Path | None, due_format: str) -> None:
        self.loans: dict[str, str] = {}  # barcode -> patron
        self.journal = journal
        self.due_format = due_format

    def log(self, **entry: Any) -> None:
        if self.journal is not None:
            with self.journal.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
                f.flush()

    def due(self) -> str:
        at = dt.datetime(2030, 1, 15, 23, 59, 0)
        if self.due_format == "iso":
            return at.strftime("%Y-%m-%d %H:%M:%S")
        return at.strftime("%Y%m%d") + "    " + at.strftime("%H%M%S")


def build(args: argparse.Namespace) -> SIP2Server:
    """Make the server with its handlers."""
    lib = Library(Path(args.journal) if args.journal else None, args.due_format)
    lib.loans.update({"B900": "P005", "B901": "P005"})  # 刘洋 has too many books
    for pair in args.lent_at_desk:
        barcode, _, patron = pair.partition("=")
        lib.loans[barcode] = patron
    for n in range(1, args.books + 1):
        TITLES[f"BK{n:05d}"] = f"Book {n}"
    corrupt = set(args.corrupt)
    malformed = set(args.malformed)
    ask_again = set(args.ask_again)

    class Server(SIP2Server):
        async def _send(self, stream: Any, state: Any, frame: bytes) -> None:
            state.last_response = frame  # a 97 gets the good answer
            out = frame
            named = [b for b in corrupt if f"AB{b}|".encode() in frame]
            if named:
                corrupt.difference_update(named)
                # One byte changed: the checksum no longer matches.
                out = frame[:3] + (b"X" if frame[3:4] != b"X" else b"Y") + frame[4:]
            bad = [b for b in malformed if f"AB{b}|".encode() in frame and frame[:2] == b"12"]
            if bad:
                # "ZZ" where ok and renewal ok belong, with a good checksum: well framed nonsense.
                out = b"12ZZ" + frame[4:].rstrip(b"\r")
                if out[-6:-4] == b"AZ":
                    out = out[:-4] + calculate_checksum(out[:-4]).encode()
                out += b"\r"
                state.last_response = out
            if args.terminator == "crlf":
                out = out + b"\n"
            await stream.send(out)

        async def _process_frame(self, stream: Any, state: Any, frame: bytes) -> None:
            # A "\r\n" client leaves the "\n" in front of its next frame.
            frame = frame.lstrip(b"\n")
            code = frame[:2].decode("ascii", "replace")
            if code in ask_again:
                ask_again.discard(code)
                await self._send_96(stream, state)  # "I could not read that": send it again
                return
            await super()._process_frame(stream, state, frame)

    server = Server(
        encoding=args.encoding,
        error_detection="required" if args.error_detection == "required" else "auto",
        login_required=True,
        institution_id="SCHOOL",
        library_name="实验小学图书馆" if args.encoding != "cp850" else "School library",
    )

    @server.route(r.LOGIN)
    def login(req: Any, ctx: Any) -> LoginResponse:
        ok = req.login_user_id == args.user and req.login_password == args.password
        return LoginResponse(ok="1" if ok else "0")

    @server.route(r.SC_STATUS)
    def sc_status(req: Any, ctx: Any) -> ACSStatusResponse:
        return server.build_acs_status(req)

    @server.route(r.PATRON_STATUS)
    def patron_status(req: Any, ctx: Any) -> PatronStatusResponse:
        lib.log(op="23", patron=req.patron_identifier)
        name, pstatus, valid, fines, msg = PATRONS.get(
            req.patron_identifier, ("", status(0, 1, 2, 3), "N", "", "Unknown patron")
        )
        return PatronStatusResponse(
            patron_status=pstatus,
            language="001",
            transaction_date=ctx.now_18(),
            institution_id=req.institution_id,
            patron_identifier=req.patron_identifier,
            personal_name=name,
            valid_patron=valid,
            currency_type="CNY" if fines else None,
            fee_amount=fines or None,
            screen_message=(msg,) if msg else (),
        )

    def patron_info(req: Any, ctx: Any) -> PatronInformationResponse:
        lib.log(op="63", patron=req.patron_identifier)
        p = PATRONS.get(req.patron_identifier)
        charged = tuple(b for b, who in lib.loans.items() if who == req.patron_identifier)
        if p is None:
            return PatronInformationResponse(
                patron_status=status(0, 1, 2, 3),
                language="001",
                transaction_date=ctx.now_18(),
                hold_items_count="0000",
                overdue_items_count="0000",
                charged_items_count="0000",
                fine_items_count="0000",
                recall_items_count="0000",
                unavailable_holds_count="0000",
                institution_id=req.institution_id,
                patron_identifier=req.patron_identifier,
                personal_name="",
                valid_patron="N",
                screen_message=("Unknown patron",),
            )
        name, pstatus, valid, fines, msg = p
        return PatronInformationResponse(
            patron_status=pstatus,
            language="001",
            transaction_date=ctx.now_18(),
            hold_items_count="0000",
            overdue_items_count="0000",
            charged_items_count=f"{len(charged):04d}",
            fine_items_count="0001" if fines else "0000",
            recall_items_count="0000",
            unavailable_holds_count="0000",
            institution_id=req.institution_id,
            patron_identifier=req.patron_identifier,
            personal_name=name,
            valid_patron=valid,
            valid_patron_password="Y",
            currency_type="CNY" if fines else None,
            fee_amount=fines or None,
            charged_items=charged if req.summary[2] == "Y" else (),
            screen_message=(msg,) if msg else (),
        )

    if not args.no_63:  # a server with 23 Patron Status only
        server.route(r.PATRON_INFORMATION)(patron_info)

    @server.route(r.ITEM_INFORMATION)
    def item_info(req: Any, ctx: Any) -> ItemInformationResponse:
        lib.log(op="17", item=req.item_identifier)
        title = TITLES.get(req.item_identifier)
        lent = req.item_identifier in lib.loans
        return ItemInformationResponse(
            circulation_status="01" if title is None else "04" if lent else "03",
            security_marker="00",
            fee_type="01",
            transaction_date=ctx.now_18(),
            item_identifier=req.item_identifier,
            title_identifier=title or "",
            due_date=lib.due() if lent else None,
            screen_message=() if title else ("Item not found",),
        )

    @server.route(r.CHECKOUT)
    def checkout(req: Any, ctx: Any) -> CheckoutResponse:
        barcode, patron = req.item_identifier, req.patron_identifier
        p = PATRONS.get(patron)
        why = ""
        if p is None or p[2] != "Y":
            why = "Unknown patron"
        elif "Y" in p[1][:1] and req.no_block != "Y":
            why = p[4] or "Patron blocked"
        elif barcode not in TITLES:
            why = "Item not found"
        elif barcode == "B666":
            why = "Reference only: not for loan"
        elif lib.loans.get(barcode, patron) != patron:
            why = "Item checked out to another patron"
        if not why:
            lib.loans[barcode] = patron
        lib.log(
            op="11",
            patron=patron,
            item=barcode,
            date=req.transaction_date,
            no_block=req.no_block,
            ok=not why,
        )
        time.sleep(args.slow_checkout)
        return CheckoutResponse(
            ok="0" if why else "1",
            renewal_ok="N",
            magnetic_media="N",
            desensitize="Y" if not why else "N",
            transaction_date=ctx.now_18(),
            institution_id=req.institution_id,
            patron_identifier=patron,
            item_identifier=barcode,
            title_identifier=TITLES.get(barcode, ""),
            due_date=lib.due() if not why else "",
            screen_message=(why,) if why else (),
        )

    @server.route(r.CHECKIN)
    def checkin(req: Any, ctx: Any) -> CheckinResponse:
        barcode = req.item_identifier
        known = barcode in TITLES
        patron = lib.loans.pop(barcode, None)
        lib.log(op="09", item=barcode, date=req.transaction_date, no_block=req.no_block, ok=known)
        time.sleep(args.slow_checkin)  # taken, but the answer is late: a kiosk may die meanwhile
        return CheckinResponse(
            ok="1" if known else "0",
            resensitize="Y",
            magnetic_media="N",
            alert="N",
            transaction_date=ctx.now_18(),
            institution_id=req.institution_id,
            item_identifier=barcode,
            permanent_location="Library",
            title_identifier=TITLES.get(barcode),
            patron_identifier=patron,
            screen_message=() if known else ("Item not found",),
        )

    @server.route(r.RENEW)
    def renew(req: Any, ctx: Any) -> RenewResponse:
        barcode, patron = req.item_identifier or "", req.patron_identifier
        ok = lib.loans.get(barcode) == patron
        lib.log(op="29", patron=patron, item=barcode, date=req.transaction_date, ok=ok)
        return RenewResponse(
            ok="1" if ok else "0",
            renewal_ok="Y" if ok else "N",
            magnetic_media="N",
            desensitize="N",
            transaction_date=ctx.now_18(),
            institution_id=req.institution_id,
            patron_identifier=patron,
            item_identifier=barcode,
            title_identifier=TITLES.get(barcode, ""),
            due_date=lib.due() if ok else "",
            screen_message=() if ok else ("Item not checked out to you",),
        )

    @server.route(r.END_PATRON_SESSION)
    def end(req: Any, ctx: Any) -> EndSessionResponse:
        lib.log(op="35", patron=req.patron_identifier)
        return EndSessionResponse(
            end_session="Y",
            transaction_date=ctx.now_18(),
            institution_id=req.institution_id,
            patron_identifier=req.patron_identifier,
        )

    return server


def main(argv: list[str] | None = None) -> None:
    """Serve until killed."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--encoding", default="utf-8")
    ap.add_argument("--terminator", choices=("cr", "crlf"), default="cr")
    ap.add_argument("--error-detection", choices=("auto", "required"), default="auto")
    ap.add_argument("--user", default="kiosk")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--journal", default="")
    ap.add_argument("--due-format", choices=("spec", "iso"), default="spec")
    ap.add_argument("--lent-at-desk", action="append", default=[])
    ap.add_argument("--corrupt", action="append", default=[])
    ap.add_argument("--malformed", action="append", default=[])
    ap.add_argument("--slow-checkin", type=float, default=0.0)
    ap.add_argument("--slow-checkout", type=float, default=0.0)
    ap.add_argument("--no-63", action="store_true", help="no 63 Patron Information: 23 only")
    ap.add_argument("--ask-again", action="append", default=[], help="answer its first with 96")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve over TLS")
    ap.add_argument("--books", type=int, default=0, help="BK00001... more books (the bench)")
    args = ap.parse_args(argv)
    server = build(args)

    async def serve() -> None:
        if args.tls:
            # TLS in front, as a stunnel would put it: the kiosk's `tls = true`.
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(args.tls[0], args.tls[1])
            plain = await server.listen("127.0.0.1", args.port)
            port = plain.extra(SocketAttribute.local_port)
            listener = TLSListener(plain, context, standard_compatible=False)
            print(f"port {port}", flush=True)
            await listener.serve(server._handle_connection)
            return
        async with server.start("127.0.0.1", args.port) as port:
            print(f"port {port}", flush=True)
            await anyio.sleep_forever()

    anyio.run(serve)


if __name__ == "__main__":
    sys.exit(main())
