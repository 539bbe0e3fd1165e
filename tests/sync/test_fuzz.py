"""A bounded fuzz run of the hub's API: generated requests never get a 5xx.

Hypothesis builds requests from the shapes `kiosk/sync/openapi.yaml` describes, then breaks
them: wrong types, hostile text (NUL, TAB, lone surrogates, `</script>`), deep nesting, huge
numbers, times without a zone or far away, garbage arguments and bodies. Every answer must be
a 2xx or a 4xx with one of the stable error codes, and a refused batch changes nothing.
At least 10,000 requests (each generated example sends several), through the hub's WSGI app
in this process (no sockets), so it takes seconds. The same checks over real HTTP are in
test_trust.py and test_hub_input.py.
"""

from __future__ import annotations

import json
import logging
import string
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.circulation.records import seed_rules
from kiosk.config import RulesSettings
from kiosk.sync import hubstore
from kiosk.sync.hub import create_hub_app

from .conftest import BOOK, add_school

SPEC = Path(__file__).parents[2] / "kiosk" / "sync" / "openapi.yaml"
CODES = set(
    yaml.safe_load(SPEC.read_text("utf-8"))["components"]["schemas"]["Error"]["properties"][
        "error"
    ]["enum"]
)
# A share of the 10,000 requests for each endpoint's test.
RUNS = {"events": 7000, "changes": 3200, "anything": 2000}


def fuzz(examples: int) -> Any:
    """Return the settings of one bounded, repeatable fuzz run."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


counted: dict[str, int] = dict.fromkeys(RUNS, 0)

hostile_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "\x00", "a\tb", "a\nb", "\ud800", "</script>", "９", "1e400", "-1", "null"]
    ),
    st.text(alphabet=string.digits, min_size=1, max_size=40),
)
times = st.one_of(
    st.sampled_from(
        [
            "2026-11-02T01:00:00.000Z",
            "2026-11-02T09:00:00",
            "2026-11-02",
            "9999-12-31T23:59:59.999Z",
            "0001-01-01T00:00:00.000Z",
            "10000-01-01T00:00:00Z",
            "2026-13-45T25:61:61Z",
            "2026-11-02T01:00:00+08:00",
        ]
    ),
    hostile_text,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    hostile_text,
    times,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(hostile_text, inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def events(draw: Any) -> dict[str, Any]:
    """A wire event of kiosk k1, with some fields replaced by anything."""
    event: dict[str, Any] = {
        "uuid": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        "seq": draw(st.integers(0, 10**6)),
        "type": draw(
            st.sampled_from(
                [
                    "checkout",
                    "checkin",
                    "renew",
                    "card_lost",
                    "card_issued",
                    "item_status",
                    "patron_status",
                    "undo",
                    "import",
                    "rules_set",
                ]
            )
        ),
        "at": "2026-11-02T01:00:00.000Z",
        "kiosk_id": "k1",
        "actor": "S001",
        "patron_id": draw(st.sampled_from(["S001", "S002", "T001", "NOBODY"])),
        "item_barcode": draw(st.sampled_from([*BOOK[:3], "NO-SUCH-BOOK"])),
        "data": {
            "due_at": "2026-12-01T15:59:59.000Z",
            "card": draw(st.sampled_from(["CARD-S001", "CARD-S002", "NEW-1", " "])),
            "status": draw(st.sampled_from(["lost", "damaged", "withdrawn", "blocked"])),
        },
    }
    for name in draw(st.lists(st.sampled_from([*event, "data.due_at", "data.card"]), max_size=3)):
        value = draw(st.one_of(json_values, times))
        if name.startswith("data.") and isinstance(event["data"], dict):
            event["data"][name[5:]] = value
        else:
            event[name] = value
    return event


@st.composite
def batches(draw: Any) -> bytes:
    """A batch body: mostly well-formed JSON around broken events, sometimes not JSON at all."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=200))
    if kind == 1:
        depth = draw(st.integers(1, 50_000))
        return b'{"events": ' + b"[" * depth + b"]" * depth + b"}"
    body: dict[str, Any] = {
        "kiosk_id": "k1",
        "sent_at": draw(st.one_of(st.just("2026-11-02T01:00:05.000Z"), times)),
        "events": draw(st.lists(events(), max_size=4)),
    }
    if kind == 2:
        body[draw(st.sampled_from(["kiosk_id", "sent_at", "events"]))] = draw(json_values)
    return json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FlaskClient, Any, str]]:
    """The hub's app on a hub store with the small school, and a kiosk's token."""
    logging.getLogger("kiosk.hub").setLevel(logging.ERROR)  # ten thousand refusals
    store = hubstore.open_hub_store(tmp_path_factory.mktemp("fuzz") / "hub.db")
    # Durability is not under test here; without an fsync per batch the run stays short.
    store.db.execute("PRAGMA synchronous = OFF")
    seed_rules(store, RulesSettings())
    add_school(store)
    token = hubstore.register_kiosk(store, "k1")
    app = create_hub_app(store, max_batch=50)
    yield app.test_client(), store, token
    store.close()
    logging.getLogger("kiosk.hub").setLevel(logging.NOTSET)


def check(resp: Any) -> None:
    """Assert an answer is not a server error, and a refusal names a stable code."""
    assert resp.status_code < 500, resp.get_data(as_text=True)
    if resp.status_code >= 400:
        assert resp.json["error"] in CODES, resp.json


# Fixed ways to break one event, applied to each generated batch besides the batch itself:
# every generated example then costs hypothesis one draw and the hub several requests.
BREAKS: list[tuple[str, Any]] = [
    ("at", "2026-11-02T09:00:00"),
    ("item_barcode", "9787020000001\n2026-11-02 09:00:00\treturn\tX"),
    ("patron_id", "\x00"),
    ("seq", 10**30),
    ("data", {"due_at": "2026-12-01"}),
    ("uuid", "not-a-uuid"),
]


def test_posted_batches_never_get_a_5xx(client: tuple[FlaskClient, Any, str]) -> None:
    c, store, token = client
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def send(body: bytes) -> None:
        before = store.value("SELECT count(*) FROM events")
        resp = c.post("/api/v1/sync/events", data=body, headers=headers)
        counted["events"] += 1
        check(resp)
        if resp.status_code >= 400:
            assert store.value("SELECT count(*) FROM events") == before

    @fuzz(RUNS["events"] // (1 + len(BREAKS)))
    @given(body=batches())
    def post(body: bytes) -> None:
        send(body)
        try:
            good = json.loads(body)
            first = good["events"][0]
        except Exception:  # not a batch with an event: nothing to break further
            return
        if not isinstance(first, dict):
            return
        for name, value in BREAKS:
            send(json.dumps({**good, "events": [{**first, name: value}]}).encode())

    post()
    assert counted["events"] >= RUNS["events"] // 2


query_values = st.one_of(hostile_text, times, st.integers(-(10**30), 10**30).map(str))
PARTS = ["rules", "patrons", "cards", "items", "loans"]


def test_changes_and_snapshot_arguments_never_get_a_5xx(
    client: tuple[FlaskClient, Any, str],
) -> None:
    c, store, token = client
    epoch = hubstore.meta(store, "epoch")
    headers = {"Authorization": f"Bearer {token}"}

    def get(path: str, args: dict[str, str]) -> None:
        check(c.get(path, query_string=_encodable(args), headers=headers))
        counted["changes"] += 1

    @fuzz(RUNS["changes"] // 4)
    @given(
        args=st.dictionaries(
            st.sampled_from(["cursor", "epoch", "clock", "limit", "part", "after"]),
            query_values,
            max_size=5,
        ),
        part=st.sampled_from(PARTS),
    )
    def ask(args: dict[str, str], part: str) -> None:
        get("/api/v1/sync/changes", args)
        get("/api/v1/sync/changes", {**args, "epoch": epoch})
        get("/api/v1/sync/snapshot", args)
        get("/api/v1/sync/snapshot", {**args, "part": part})

    ask()
    assert counted["changes"] >= RUNS["changes"]


def test_any_path_method_and_token_never_get_a_5xx(client: tuple[FlaskClient, Any, str]) -> None:
    c, _, token = client

    @fuzz(RUNS["anything"] // 2)
    @given(
        method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
        path=st.one_of(
            st.sampled_from(
                [
                    "/api/v1/sync/events",
                    "/api/v1/sync/changes",
                    "/api/v1/sync/snapshot",
                    "/api/v1/sync/conflicts",
                    "/api/v1/sync/kiosks",
                    "/api/v1/sync/",
                    "/api/v1/sync/x",
                ]
            ),
            st.text(alphabet=string.ascii_letters + "/%._-", max_size=30).map(
                lambda p: "/api/v1/sync/" + p
            ),
        ),
        auth=st.text(alphabet=string.printable, max_size=40),
        body=st.binary(max_size=100),
    )
    def call(method: str, path: str, auth: str, body: bytes) -> None:
        for header in (f"Bearer {token}", auth.replace("\n", " ").replace("\r", " ")):
            resp = c.open(path, method=method, data=body, headers={"Authorization": header})
            counted["anything"] += 1
            check(resp)

    call()
    assert counted["anything"] >= RUNS["anything"]


def test_the_fuzz_ran_ten_thousand_requests() -> None:
    ran = sum(counted.values())
    if ran == 0:
        pytest.skip("run with the fuzz tests above (this checks their total)")
    assert ran >= 10_000, counted
    print(f"fuzz: {ran} requests {counted}")


def _encodable(args: dict[str, str]) -> dict[str, str]:
    """Return query arguments as a browser would send them (a lone surrogate cannot be)."""
    return {k: v.encode("utf-8", "replace").decode("utf-8") for k, v in args.items()}


def test_the_openapi_files_validate() -> None:
    from openapi_spec_validator import validate

    for spec in (SPEC, SPEC.parents[1] / "web" / "api" / "openapi.yaml"):
        validate(yaml.safe_load(spec.read_text("utf-8")))
