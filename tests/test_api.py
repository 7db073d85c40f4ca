"""The pharmacy server's JSON API (dosing.web.api) on SQLite and a real PostgreSQL: every refused step, the whole chain, races.

Each database gets one module-wide server (users made with accounts.add_user,
one order prepared by pharmacist "anna"), since preparing takes half a second
and issuing lays out PDFs for seconds. The chain and the races run through a
real waitress server with urllib, as a ward computer would.
"""

import io
import json
import threading
import uuid
from datetime import datetime, timedelta

import attrs
import pytest

from tests.conftest import BASE_PATIENT, toml_text
from tests.load import Client, api_app, patient_toml, report, run, serving

PASSWORD = "correct horse battery"
PHARMACISTS = ("anna", "bela", "cleo") + tuple(f"racer{n}" for n in range(8))
START = "2026-05-05"
ID = "0123456789abcdef0123456789abcdef"  # an order id of the right shape that no order has
ROUTES = [  # (method, path) of every route but login, {id} for an order
    ("POST", "/api/logout"), ("GET", "/api/me"), ("GET", "/api/orders"), ("POST", "/api/orders"), ("GET", "/api/orders/{id}"),
    ("POST", "/api/orders/{id}/verify"), ("POST", "/api/orders/{id}/reject"), ("POST", "/api/orders/{id}/issue"),
    ("POST", "/api/orders/{id}/administrations"), ("GET", "/api/orders/{id}/documents/x.pdf"), ("GET", "/api/audit"),
]


@attrs.define
class World:
    db: object
    app: object
    prepared: dict  #: the 201 answer for anna's order of the test infant (MRN-T0001), left in state prepared
    clients: dict = attrs.Factory(dict)

    def client(self, name: str):
        """A test client logged in as `name`, sending its CSRF token on every request (one login per user per module)."""
        if name not in self.clients:
            client = self.app.test_client()
            answer = client.post("/api/login", json={"user": name, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
            assert answer.status_code == 200, answer.json
            client.environ_base["HTTP_X_CSRF_TOKEN"] = answer.json["csrf_token"]
            self.clients[name] = client
        return self.clients[name]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    from dosing.store import accounts, open_database

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'pharmacy.sqlite'}"
    else:
        from tests.postgres import new_database

        url = new_database(request.getfixturevalue("postgres_cluster"), f"api_{uuid.uuid4().hex[:12]}")
    db = open_database(url)
    for name in PHARMACISTS:
        accounts.add_user(db, name, "pharmacist", PASSWORD)
    accounts.add_user(db, "nora", "nurse", PASSWORD)
    accounts.add_user(db, "adam", "admin", PASSWORD)
    found = World(db=db, app=api_app(db), prepared={})
    answer = found.client("anna").post("/api/orders", json=order_body())
    assert answer.status_code == 201, answer.json
    found.prepared = answer.json
    yield found
    db.dispose()


def order_body(patient_id="MRN-T0001", **extra) -> dict:
    return {"patient_toml": patient_toml(patient_id), "phase": "induction", "start": START, **extra}


def refused(answer, status: int, *words: str) -> dict:
    """The answer has this status and a JSON sentence holding `words`."""
    assert answer.status_code == status, (answer.status_code, answer.get_data(as_text=True)[:300])
    assert answer.is_json and answer.json["error"], answer.get_data(as_text=True)[:300]
    for word in words:
        assert word in json.dumps(answer.json), (word, answer.json)
    return answer.json


# -- logins -----------------------------------------------------------------------------------

def test_login_sets_a_strict_cookie_and_returns_the_csrf_token(world):
    client = world.app.test_client()
    answer = client.post("/api/login", json={"user": "bela", "password": PASSWORD})
    assert answer.status_code == 200
    assert answer.json["user"] == "bela" and answer.json["role"] == "pharmacist" and len(answer.json["csrf_token"]) >= 32
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("dosing_session=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here (a loopback test); over https it is Secure, below
    assert client.get("/api/me").json == answer.json
    secure = world.app.test_client().post("/api/login", json={"user": "bela", "password": PASSWORD}, base_url="https://localhost")
    assert "Secure" in secure.headers["Set-Cookie"]


def test_wrong_password_401_then_throttled_429_with_retry_after(world, monkeypatch):
    # The clock held still (accounts reads dosing.store.audit.now), so the wait after the 5th failure is exactly 2**0 = 1 s.
    monkeypatch.setattr("dosing.store.audit.now", lambda at=datetime.now().replace(microsecond=0): at)
    client, address = world.app.test_client(), {"REMOTE_ADDR": "10.9.9.9"}
    for _ in range(5):
        refused(client.post("/api/login", json={"user": "cleo", "password": "not the password"}, environ_base=address), 401,
                "wrong password")
    answer = client.post("/api/login", json={"user": "cleo", "password": PASSWORD}, environ_base=address)  # right, but too soon
    refused(answer, 429, "too many failed logins; try again in 1 second")
    assert answer.headers["Retry-After"] == "1" and "Set-Cookie" not in answer.headers


def test_unknown_user_is_401_like_a_wrong_password(world):
    refused(world.app.test_client().post("/api/login", json={"user": "nobody", "password": PASSWORD},
                                         environ_base={"REMOTE_ADDR": "10.0.0.7"}), 401, "unknown user or wrong password")


def test_logout_ends_the_session(world):
    client = world.app.test_client()
    token = client.post("/api/login", json={"user": "bela", "password": PASSWORD}).json["csrf_token"]
    assert client.get("/api/me").status_code == 200
    assert client.post("/api/logout", headers={"X-CSRF-Token": token}).json == {"logged_out": True}
    refused(client.get("/api/me"), 401, "not logged in")


# -- refused steps ----------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", ROUTES)
def test_no_session_is_401_on_every_route(world, method, path):
    answer = world.app.test_client().open(path.format(id=world.prepared["id"]), method=method, json={})
    refused(answer, 401, "not logged in", "POST /api/login")


@pytest.mark.parametrize("method, path", [r for r in ROUTES if r[0] == "POST"])
def test_a_write_without_the_sessions_csrf_token_is_403(world, method, path):
    client = world.client("bela")
    for token in (None, "", "x" * 43, world.client("anna").environ_base["HTTP_X_CSRF_TOKEN"]):  # missing, empty, wrong, another's
        headers = {"X-CSRF-Token": token} if token is not None else {}
        saved = client.environ_base.pop("HTTP_X_CSRF_TOKEN")
        try:
            refused(client.open(path.format(id=world.prepared["id"]), method=method, json={}, headers=headers), 403, "CSRF")
        finally:
            client.environ_base["HTTP_X_CSRF_TOKEN"] = saved
    assert world.client("bela").get(f"/api/orders/{world.prepared['id']}").json["state"] == "prepared"


def test_roles_and_states_refused_on_a_prepared_order(world):
    order = world.prepared["id"]
    nurse, admin, anna = world.client("nora"), world.client("adam"), world.client("anna")
    refused(nurse.post("/api/orders", json=order_body("MRN-NURSE")), 403, "nora is a nurse", "pharmacist")
    refused(admin.post("/api/orders", json=order_body("MRN-ADMIN")), 403, "adam is a admin")
    refused(nurse.post(f"/api/orders/{order}/verify"), 403, "pharmacist")
    refused(nurse.post(f"/api/orders/{order}/issue"), 403, "pharmacist")
    refused(anna.post(f"/api/orders/{order}/verify"), 403, "you prepared this order", "different pharmacist")
    refused(world.client("bela").post(f"/api/orders/{order}/issue"), 409, "only a verified order can be issued")
    refused(nurse.post(f"/api/orders/{order}/administrations", json=given(1)), 409, "not issued yet")
    refused(anna.post(f"/api/orders/{order}/administrations", json=given(1)), 403, "nurse")
    refused(anna.get(f"/api/orders/{ID}"), 404, ID)
    refused(anna.get("/api/orders/not-an-order"), 404)
    refused(anna.post(f"/api/orders/{ID}/verify"), 404)
    shown = anna.get(f"/api/orders/{order}").json
    assert shown["state"] == "prepared" and [e["action"] for e in shown["history"]] == ["prepared"]
    assert [o["id"] for o in anna.get("/api/orders?patient=MRN-T0001").json["orders"]] == [order]  # nothing refused was kept


def test_unchanged_inputs_prepared_again_are_refused_not_a_new_version(world):
    answer = refused(world.client("bela").post("/api/orders", json=order_body()), 422,
                     "nothing has changed since version 1 of this order", "prepared, prepared by anna at")
    assert answer["field"] == "reissue" and world.prepared["id"] in answer["fix"] and '"reissue"' in answer["fix"]
    assert len(world.client("bela").get("/api/orders?patient=MRN-T0001").json["orders"]) == 1


def test_a_preview_records_nothing_and_refuses_unchanged_inputs(world):
    from dosing import pharmacy
    from dosing.errors import InputError
    from dosing.regimen import load_protocol
    from dosing.requests import Request

    protocol, day_one = load_protocol(None), datetime.fromisoformat(START).date()
    shown = pharmacy.preview_order(world.db, protocol, patient_toml("MRN-PREVIEW"), "induction", Request(start=day_one, out=None))
    assert shown["version"] == 1 and "orders" in [f["kind"] for f in shown["frames"]] and isinstance(shown["notes"], list)
    assert all("MRN-PREVIEW" in f["html"] for f in shown["frames"])
    assert world.client("anna").get("/api/orders?patient=MRN-PREVIEW").json["orders"] == []
    with pytest.raises(InputError, match="nothing has changed since version 1"):
        pharmacy.preview_order(world.db, protocol, patient_toml("MRN-T0001"), "induction", Request(start=day_one, out=None))
    again = Request(start=day_one, out=None, reissue="the ward asked for a fresh copy")
    assert pharmacy.preview_order(world.db, protocol, patient_toml("MRN-T0001"), "induction", again)["version"] == 2


def test_a_rejected_order_with_its_reason_goes_no_further(world):
    anna, bela = world.client("anna"), world.client("bela")
    order = anna.post("/api/orders", json=order_body("MRN-REJECT")).json["id"]
    refused(bela.post(f"/api/orders/{order}/reject", json={"reason": "no"}), 422, "too short")
    answer = bela.post(f"/api/orders/{order}/reject", json={"reason": "weight is from last month; re-weigh the infant"})
    assert answer.status_code == 200 and answer.json == {"id": order, "state": "rejected"}
    refused(bela.post(f"/api/orders/{order}/verify"), 409, "rejected by bela")
    refused(bela.post(f"/api/orders/{order}/issue"), 409, "only a verified order can be issued")
    last = anna.get(f"/api/orders/{order}").json["history"][-1]
    assert (last["action"], last["user"], last["reason"]) == ("rejected", "bela", "weight is from last month; re-weigh the infant")
    assert [o["id"] for o in anna.get("/api/orders?state=rejected").json["orders"]] == [order]


def test_audit_is_for_admins_only(world):
    events = world.client("adam").get("/api/audit").json["events"]
    assert [e["action"] for e in events if e["order"] == world.prepared["id"]][:1] == ["prepared"]
    assert events == sorted(events, key=lambda e: e["id"])  # oldest first
    for name in ("anna", "nora"):
        refused(world.client(name).get("/api/audit"), 403, "admin")


def given(item: int, **changes) -> dict:
    when = (datetime.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    return {"item": item, "given": True, "given_at": when, "given_by": "NB", "checked_by": "KL", "batch": "LOT-42", **changes}


# -- the chain, through a real server ---------------------------------------------------------

def race(clients, path: str) -> list[int]:
    """Each client POSTs `path` at the same moment, from its own thread; their statuses."""
    start, statuses = threading.Barrier(len(clients)), [None] * len(clients)

    def go(n):
        start.wait()
        statuses[n] = clients[n].call("POST", path)[0]

    threads = [threading.Thread(target=go, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_the_chain_prepare_verify_issue_administer_with_racing_pharmacists(world, run, tmp_path):
    import pypdf

    with serving(world.app, threads=10) as base:
        anna, nora, adam = Client(base), Client(base), Client(base)
        for client, name in ((anna, "anna"), (nora, "nora"), (adam, "adam")):
            assert client.login(name, PASSWORD)[0] == 200
        text = toml_text(BASE_PATIENT | {"patient": BASE_PATIENT["patient"] | {"id": "MRN-CHAIN", "name": "Chain, Baby"}})
        status, order, _ = anna.call("POST", "/api/orders", {"patient_toml": text, "phase": "induction", "start": START})
        assert status == 201 and order["state"] == "prepared" and order["version"] == 1, order
        # the same administrations as `dosing sheet --format json` for this patient, phase and day 1
        (tmp_path / "chain.toml").write_text(text, encoding="utf-8")
        code, out, err = run("sheet", tmp_path / "chain.toml", "--phase", "induction", "--start", START, "--format", "json")
        assert code == 0, err
        expected = json.loads(out)["administrations"]
        assert len(expected) > 10
        assert [{k: v for k, v in a.items() if k not in ("item", "recorded")} for a in order["administrations"]] == expected
        assert [a["item"] for a in order["administrations"]] == list(range(1, len(expected) + 1))

        racers = [Client(base) for _ in range(8)]
        for n, client in enumerate(racers):
            assert client.login(f"racer{n}", PASSWORD)[0] == 200
        verified = race(racers, f"/api/orders/{order['id']}/verify")
        assert sorted(verified) == [200] + [409] * 7, verified
        winner = racers[verified.index(200)]
        assert winner.call("POST", f"/api/orders/{order['id']}/verify")[0] == 409  # verifying twice
        issued = race(racers, f"/api/orders/{order['id']}/issue")
        assert sorted(issued) == [200] + [409] * 7, issued

        status, shown, _ = anna.call("GET", f"/api/orders/{order['id']}")
        actions = [(e["action"], e["user"]) for e in shown["history"]]
        assert actions == [("prepared", "anna"), ("verified", f"racer{verified.index(200)}"), ("issued", f"racer{issued.index(200)}")]
        assert all(datetime.fromisoformat(e["at"]) for e in shown["history"]) and shown["state"] == "issued"
        _, events, _ = adam.call("GET", "/api/audit")
        mine = [e["action"] for e in events["events"] if e["order"] == order["id"]]
        assert mine.count("verified") == 1 and mine.count("issued") == 1

        # the PDFs: named as dosing sheet names them, downloadable by a nurse, naming the patient
        names = [d["name"] for d in shown["documents"]]
        assert names and all(n.startswith(f"MRN-CHAIN_induction_{START}_") and n.endswith(".pdf") for n in names), names
        status, pdf, _ = nora.call("GET", f"/api/orders/{order['id']}/documents/{names[0]}")
        assert status == 200 and pdf[:5] == b"%PDF-"
        assert "Chain, Baby" in "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert nora.call("GET", f"/api/orders/{ID}/documents/{names[0]}")[0] == 404  # another order's path to it

        # the nurse records item 1 given, and item 2 not given; the order shows them and the totals count them
        status, recorded, _ = nora.call("POST", f"/api/orders/{order['id']}/administrations", given(1))
        assert status == 201 and recorded["item"] == 1, recorded
        status, _, _ = nora.call("POST", f"/api/orders/{order['id']}/administrations",
                                 {"item": 2, "given": False, "not_given_reason": "vomiting, held by the consultant"})
        assert status == 201
        assert nora.call("POST", f"/api/orders/{order['id']}/administrations", given(1))[0] == 409  # already recorded
        status, shown, _ = nora.call("GET", f"/api/orders/{order['id']}")
        first, second = shown["administrations"][0]["recorded"], shown["administrations"][1]["recorded"]
        assert (first["given"], first["given_by"], first["checked_by"], first["batch"], first["recorded_by"]) == (True, "NB", "KL", "LOT-42", "nora")
        assert (second["given"], second["not_given_reason"]) == (False, "vomiting, held by the consultant")
        assert sum(t["doses_given"] for t in shown["totals"]) == 1 and sum(t["doses_not_given"] for t in shown["totals"]) == 1


# -- bad input never answers 500 --------------------------------------------------------------

def _bad_inputs(order: str):
    """(method, path, JSON body or raw bytes, who) that a careless or hostile caller may send."""
    deep = b"[" * 100_000 + b"]" * 100_000
    toml = lambda text: {"patient_toml": text, "phase": "induction", "start": START}  # noqa: E731
    weight = patient_toml("MRN-BAD").replace('"6.2 kg"', '"6[2 kg"')
    for raw in (b"not json", b"{", deep, b"[1, 2]", b'"text"', b"3", b"null", b"\xff\xfe{}", b'{"a": NaN}'):
        for path in ("/api/login", "/api/orders", f"/api/orders/{order}/reject", f"/api/orders/{order}/administrations"):
            yield "POST", path, raw, "anna" if "reject" in path or path == "/api/orders" else "nora"
    for body in ({"user": ["anna"], "password": PASSWORD}, {"user": "anna", "password": 5}, {"user": "a" * 10_000, "password": "x"},
                 {"user": "an\x00na", "password": PASSWORD}, {"user": "\ud800", "password": PASSWORD}, {}):
        yield "POST", "/api/login", body, None
    for body in ({}, toml(5), toml(None), toml("\ud800"), toml("a\x00b"), toml("[[[ not toml"), toml(weight),
                 toml("x = " + "[" * 5000 + "]" * 5000), toml("x = " + "9" * 5000), {**toml(patient_toml("MRN-B")), "phase": ["HR1"]},
                 {**toml(patient_toml("MRN-B")), "phase": "../induction"}, {**toml(patient_toml("MRN-B")), "start": "05/05/2026"},
                 {**toml(patient_toml("MRN-B")), "start": 20260505}, {**toml(patient_toml("MRN-B")), "weeks": 0},
                 {**toml(patient_toml("MRN-B")), "weeks": 1.5}, {**toml(patient_toml("MRN-B")), "documents": ["nope"]},
                 {**toml(patient_toml("MRN-B")), "documents": [1]}, {**toml(patient_toml("MRN-B")), "bag_hours": True},
                 {**toml(patient_toml("MRN-B")), "infusion_start": "25:00"}, {**toml(patient_toml("MRN-B")), "reissue": "x"},
                 {**toml(patient_toml("MRN-B")), "surprise": 1}, {**toml(patient_toml("MRN-B")), "substitute": "nothing-of-the-kind"}):
        yield "POST", "/api/orders", body, "anna"
    for body in ({}, {"reason": 5}, {"reason": "no"}, {"reason": ["a long enough reason"]}):
        yield "POST", f"/api/orders/{order}/reject", body, "bela"
    for body in ({}, given("1"), given(True), given(0), given(10**12), given(1, given="yes"), given(1, given_at="tomorrow"),
                 given(1, given_by=5), given(1, corrects="x"), given(1, corrects=-1), {**given(1), "extra": 1}):
        yield "POST", f"/api/orders/{order}/administrations", body, "nora"
    for path in ("/api/orders/..%2F..%2Fetc", "/api/orders/" + "f" * 5000, f"/api/orders/{order}/documents/..%2Fx.pdf",
                 "/api/orders?state=lost", "/api/orders?patient=" + "%00" * 10, "/api/nowhere"):
        yield "GET", path, None, "anna"
    yield "PUT", f"/api/orders/{order}", {}, "anna"
    yield "POST", "/api/orders", b"{" + b" " * 400_000 + b"}", "anna"  # over the upload limit


def test_a_sweep_of_bad_input_is_refused_with_a_sentence_never_500(world, capfd):
    order = world.prepared["id"]
    for n, (method, path, body, who) in enumerate(_bad_inputs(order)):
        client = world.client(who) if who else world.app.test_client()
        sent = {"data": body, "content_type": "application/json"} if isinstance(body, bytes) else {"json": body}
        answer = client.open(path, method=method, environ_base={"REMOTE_ADDR": f"10.1.{n // 200}.{n % 200}"}, **sent)
        assert answer.status_code in (400, 401, 403, 404, 405, 409, 413, 422), (method, path, str(body)[:80], answer.status_code,
                                                                              answer.get_data(as_text=True)[:300])
        assert answer.is_json and len(answer.json["error"]) > 8, (path, answer.get_data(as_text=True)[:200])
    assert "Traceback" not in capfd.readouterr().err  # the last-resort handler never ran
    shown = world.client("anna").get(f"/api/orders/{order}").json
    assert shown["state"] == "prepared" and not shown["records"]  # nothing bad was kept


def test_the_input_errors_name_the_field_and_the_fix(world):
    anna = world.client("anna")
    weight = patient_toml("MRN-BAD").replace('"6.2 kg"', '"6[2 kg"')
    answer = refused(anna.post("/api/orders", json={"patient_toml": weight, "phase": "induction", "start": START}), 422)
    assert answer["field"] == "measurements[1].weight" and answer["fix"]
    answer = refused(anna.post("/api/orders", json=order_body(start="2026-13-01")), 422, "is not a date")
    assert answer["field"] == "start"
    answer = refused(anna.post("/api/orders", json=order_body(phase="induction2")), 422, "is not a phase", "choose one of")
    assert answer["field"] == "phase"
    answer = refused(anna.post("/api/orders", json=order_body(weeks="0")), 422, "whole number of weeks")
    assert answer["field"] == "weeks"
    refused(anna.post("/api/orders", data="{}", content_type="text/plain"), 400, "not JSON", "application/json")


def test_a_small_load_run_has_no_errors(world):
    with serving(world.app) as base:
        result = run(base, world.db, users=3, requests=24, prepares=1)
    print(report(result, "test"))
    assert result["errors"] == [] and result["users"] == (2, 1)
    assert len(result["timings"]["issue"]) == 1 and len(result["timings"]["prepare"]) == 2 and result["timings"]["administration"]
