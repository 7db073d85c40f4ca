"""The pharmacy server under a bounded load: N parallel users over HTTP, latency percentiles per kind of request.

    python tests/load.py [--db URL | --postgres] [--users 8] [--requests 300] [--prepares 2]

Starts the API in-process behind waitress on 127.0.0.1 (a free port), creates
the users (half pharmacists, at least two, the rest nurses, at least one) and
runs each as a thread with its own cookie jar, through urllib, as a ward would:

1. everyone logs in; each pharmacist prepares --prepares orders (each a new patient);
2. each pharmacist verifies the orders its neighbour prepared; the first issues one;
3. the rest of the requests: the list of orders, an order, the issued PDF, and the
   nurses record the issued order's administrations (each nurse its own items).

It prints p50/p90/p99/max per kind and the count of errors (any status but the
one that kind expects). The figures are printed, never asserted;
tests/test_api.py runs it small so it keeps working.
"""

import argparse
import json
import math
import random
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password-1"
EXPECTED = {"login": 200, "list": 200, "order": 200, "document": 200, "prepare": 201, "verify": 200, "issue": 200,
            "administration": 201}


def api_app(database, regimens=None):
    """The server `dosing serve --db` runs (dosing.web.create_app in team mode: Host list, sessions, CSRF, the API and the pages)."""
    import tempfile

    from dosing.web import create_app

    return create_app(Path(tempfile.mkdtemp(prefix="dosing-load-")), regimens, database=database)


@contextmanager
def serving(app, threads: int = 8):
    """The app behind a real waitress server on 127.0.0.1 (a free port), in a thread; yields its base URL."""
    import logging

    from waitress import create_server

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is 1": every request waiting its turn, by design
    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    from tests.serving import start

    stop = start(server)
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop()


class Client:
    """One user's browser: its own cookies, the CSRF token from its login, JSON in and out."""

    def __init__(self, base: str):
        from http.cookiejar import CookieJar
        from urllib.request import HTTPCookieProcessor, build_opener

        self.base, self.csrf = base, ""
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def call(self, method: str, path: str, body=None, raw: bytes | None = None, headers: dict | None = None):
        """(status, the JSON answer or the bytes, seconds taken)."""
        from urllib.error import HTTPError
        from urllib.request import Request

        data = raw if raw is not None else json.dumps(body).encode() if body is not None else None
        sent = {"Content-Type": "application/json", **({"X-CSRF-Token": self.csrf} if self.csrf else {}), **(headers or {})}
        request = Request(self.base + path, data=data, method=method, headers=sent)
        began = time.perf_counter()
        try:
            with self.opener.open(request, timeout=300) as response:
                status, content, kind = response.status, response.read(), response.headers.get("Content-Type", "")
        except HTTPError as error:
            status, content, kind = error.code, error.read(), error.headers.get("Content-Type", "")
        took = time.perf_counter() - began
        return status, json.loads(content) if kind.startswith("application/json") else content, took

    def login(self, name: str, password: str = PASSWORD):
        status, answer, took = self.call("POST", "/api/login", {"user": name, "password": password})
        if status == 200:
            self.csrf = answer["csrf_token"]
        return status, answer, took


def patient_toml(patient_id: str) -> str:
    """The tests' infant (tests/conftest.py BASE_PATIENT) under another id."""
    from tests.conftest import BASE_PATIENT, toml_text

    data = json.loads(json.dumps(BASE_PATIENT))
    data["patient"]["id"] = patient_id
    return toml_text(data)


def run(base: str, database, users: int = 8, requests: int = 300, prepares: int = 2, seed: int = 16) -> dict:
    """Run the load against the server at `base`; {kind: [seconds]}, the errors (kind, status, answer), the users made."""
    from dosing.store import accounts

    pharmacists = max(2, math.ceil(users / 2))
    nurses = max(1, users - pharmacists)
    tag = f"{int(time.time() * 1000) % 10**8:08d}"
    names = [f"ph{n}-{tag}" for n in range(pharmacists)] + [f"nu{n}-{tag}" for n in range(nurses)]
    for name in names:
        accounts.add_user(database, name, "pharmacist" if name.startswith("ph") else "nurse", PASSWORD)
    timings = {kind: [] for kind in EXPECTED}
    errors, lock = [], threading.Lock()
    prepared = {n: [] for n in range(pharmacists)}  # pharmacist -> the orders it prepared
    issued: list[str] = []  # the one issued order's id, then its document URLs
    barrier = threading.Barrier(len(names))
    share = max(0, requests - len(names) - pharmacists * prepares * 2 - 1) // len(names)

    def timed(client, kind, method, path, body=None):
        status, answer, took = client.call(method, path, body)
        with lock:
            timings[kind].append(took)
            if status != EXPECTED[kind]:
                errors.append((kind, status, answer if isinstance(answer, dict) else answer[:200]))
        return status, answer

    def pharmacist(n: int, client):
        for k in range(prepares):
            body = {"patient_toml": patient_toml(f"LOAD-{tag}-{n}-{k}"), "phase": "induction", "start": "2026-05-05"}
            status, answer = timed(client, "prepare", "POST", "/api/orders", body)
            if status == 201:
                prepared[n].append(answer["id"])
        barrier.wait()
        for order_id in prepared[(n + 1) % pharmacists]:
            timed(client, "verify", "POST", f"/api/orders/{order_id}/verify")
        if n == 0 and prepared[1 % pharmacists]:
            status, answer = timed(client, "issue", "POST", f"/api/orders/{prepared[1 % pharmacists][0]}/issue")
            if status == 200:
                issued.extend([prepared[1 % pharmacists][0], *answer["documents"]])
        barrier.wait()
        every = [o for ids in prepared.values() for o in ids]
        for _ in range(share):
            if rng(n).random() < 0.5 or not every:
                timed(client, "list", "GET", "/api/orders")
            else:
                timed(client, "order", "GET", f"/api/orders/{rng(n).choice(every)}")

    def nurse(n: int, client):
        barrier.wait()
        barrier.wait()
        if not issued:
            return
        order_id, documents = issued[0], issued[1:]
        status, order = timed(client, "order", "GET", f"/api/orders/{order_id}")
        mine = [a["item"] for a in order["administrations"]][n::nurses] if status == 200 else []
        when = (datetime.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
        for step in range(share - 1):
            pick = rng(100 + n).random()
            if step % 2 == 0 and mine:  # every other request records a dose, while this nurse has items left
                body = {"item": mine.pop(0), "given": True, "given_at": when, "given_by": "AB", "checked_by": "CD", "batch": "LOT-1"}
                timed(client, "administration", "POST", f"/api/orders/{order_id}/administrations", body)
            elif pick < 0.4:
                timed(client, "list", "GET", "/api/orders?state=issued")
            elif pick < 0.75 or not documents:
                timed(client, "order", "GET", f"/api/orders/{order_id}")
            else:
                timed(client, "document", "GET", rng(100 + n).choice(documents))

    generators = {}

    def rng(key):
        return generators.setdefault(key, random.Random(seed * 1000 + key))

    def user(index: int, name: str):
        client = Client(base)
        status, answer, took = client.login(name)
        with lock:
            timings["login"].append(took)
            if status != 200:
                errors.append(("login", status, answer))
        try:
            if index < pharmacists:
                pharmacist(index, client)
            else:
                nurse(index - pharmacists, client)
        except threading.BrokenBarrierError:
            pass
        except Exception as exc:  # noqa: BLE001 - a client-side failure is counted, and the others go on
            barrier.abort()
            with lock:
                errors.append(("client", 0, repr(exc)))

    threads = [threading.Thread(target=user, args=(i, name)) for i, name in enumerate(names)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"timings": timings, "errors": errors, "users": (pharmacists, nurses), "seconds": time.perf_counter() - began}


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (the value at or below which p % of the requests finished)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def report(result: dict, where: str) -> str:
    timings, errors = result["timings"], result["errors"]
    total = sum(len(v) for v in timings.values())
    lines = [f"{where}: {result['users'][0]} pharmacists + {result['users'][1]} nurses, {total} requests in "
             f"{result['seconds']:.1f} s ({total / result['seconds']:.1f}/s), {len(errors)} errors",
             f"{'request':<15}{'count':>6}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"]
    for kind, values in timings.items():
        if values:
            shown = [f"{percentile(values, p) * 1000:9.0f}" for p in (50, 90, 99)] + [f"{max(values) * 1000:9.0f}"]
            lines.append(f"{kind:<15}{len(values):>6}{''.join(shown)}")
    lines += [f"error: {kind} answered {status}: {answer}" for kind, status, answer in errors[:10]]
    return "\n".join(lines)


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    import os

    os.environ.setdefault("DOSING_TODAY", "2026-06-01")  # the tests' day: the example infant's induction is current then
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLAlchemy URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL cluster (tests/postgres.py)")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--prepares", type=int, default=2, help="orders each pharmacist prepares")
    args = parser.parse_args(argv)
    import tempfile

    from dosing.store import open_database, shown

    with tempfile.TemporaryDirectory(prefix="dosing-load-") as scratch, _postgres(args.postgres) as cluster_url:
        url = args.db or cluster_url or f"sqlite:///{Path(scratch) / 'pharmacy.sqlite'}"
        database = open_database(url)
        from dosing.documents.render import warm_up

        warm_up()  # as `dosing serve` does before it listens: the time is the layout's, not WeasyPrint's first import
        with serving(api_app(database), threads=max(8, args.users)) as base:
            result = run(base, database, args.users, args.requests, args.prepares)
        database.dispose()
        print(report(result, shown(url)))
    return 1 if result["errors"] else 0


@contextmanager
def _postgres(wanted: bool):
    if not wanted:
        yield None
        return
    from tests.postgres import cluster

    with cluster() as url:
        yield url


if __name__ == "__main__":
    sys.exit(main())
