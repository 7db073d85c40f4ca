"""`dosing serve` (issue 16): which page is served, under waitress, to which names, behind which proxy, and the sheets'
cookie. The server runs for real on a free loopback port, driven over HTTP."""

import http.client
import socket
import urllib.parse

import pytest

pytest.importorskip("flask", reason="the web extra is not installed: pip install '.[web]'")
pytest.importorskip("waitress", reason="the web extra is not installed: pip install '.[web]'")

from test_web import example_form  # noqa: E402
from tests import serving  # noqa: E402

from dosing.web import create_app, serve  # noqa: E402
from dosing.web.app import PAGE_COOKIE, host_name  # noqa: E402
from dosing.web.serving import allowed_hosts, is_loopback, make_server, team_database  # noqa: E402


@pytest.fixture
def running(tmp_path, monkeypatch):
    """Start the real server (waitress) with make_server's arguments; yield a function that asks it over HTTP."""
    monkeypatch.chdir(tmp_path)  # the default pharmacy.sqlite would be looked for here
    servers = []

    def start(**options):
        server, _ = make_server("127.0.0.1", 0, tmp_path / "sheets", None, **options)
        servers.append(serving.start(server))

        def ask(method, path, headers=None, body=None):
            connection = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=60)
            connection.request(method, path, body=body, headers={"Host": f"127.0.0.1:{server.effective_port}", **(headers or {})})
            response = connection.getresponse()
            response.body = response.read().decode("utf-8", "replace")
            connection.close()
            return response

        return ask

    yield start
    for stop in servers:
        stop()


def test_the_single_user_page_under_waitress_sets_its_cookie_and_hands_out_sheets_only_with_it(running):
    ask = running()
    page = ask("GET", "/")
    assert page.status == 200 and page.getheader("Server") == "dosing"
    cookie = page.getheader("Set-Cookie")
    assert cookie.startswith(f"{PAGE_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    value = cookie.split(";")[0]
    # A sheet's link without the page's cookie (another site's page, a script elsewhere, a guessed name): 403.
    assert ask("GET", "/sheets/MRN-100001_induction_2026-06-01_orders.pdf").status == 403
    assert ask("GET", "/sheets/MRN-100001_induction_2026-06-01_orders.pdf", {"Cookie": f"{PAGE_COOKIE}=guessed"}).status == 403
    assert ask("GET", "/sheets/MRN-100001_induction_2026-06-01_orders.pdf", {"Cookie": value}).status == 404  # allowed; not issued


def test_odd_input_through_the_real_server_is_never_an_internal_error(running):
    # The fault run's two 500s were seen through the server: a bracket in a weight, and a file nested 10,000 deep.
    import re

    ask = running()
    form_token = re.search(r'name="token" value="([^"]+)"', ask("GET", "/").body)[1]
    for weight in ("6[2 kg", "["):
        fields = example_form("standard-risk.toml") | {"measurements[1].weight": weight, "token": form_token, "action": "plan"}
        response = ask("POST", "/", {"Content-Type": "application/x-www-form-urlencoded"}, urllib.parse.urlencode(fields))
        assert response.status == 422 and 'id="error-measurements[1].weight"' in response.body
    deep = "[patient]\nname = " + "[" * 10000 + "]" * 10000 + "\n"
    body = ("--b\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n" + form_token + "\r\n--b\r\nContent-Disposition: form-data; "
            "name=\"action\"\r\n\r\nopen\r\n--b\r\nContent-Disposition: form-data; name=\"patient_file\"; filename=\"deep.toml\"\r\n\r\n"
            + deep + "\r\n--b--\r\n")
    response = ask("POST", "/", {"Content-Type": "multipart/form-data; boundary=b"}, body)
    assert response.status == 422 and "deep.toml: Name: holds lists or tables nested inside one another" in response.body


def test_behind_the_trusted_proxy_the_request_is_https_and_the_cookie_secure(running):
    proxied = running(trusted_proxy="127.0.0.1", allowed=("pharmacy.hospital.example",))
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "pharmacy.hospital.example", "X-Forwarded-For": "10.1.2.3"}
    page = proxied("GET", "/", forwarded)
    assert page.status == 200 and "Secure" in page.getheader("Set-Cookie")
    # The forwarded host is the one the Host list checks: a name not allowed is refused, as if asked directly.
    assert proxied("GET", "/", forwarded | {"X-Forwarded-Host": "attacker.example"}).status == 421
    # Without a trusted proxy, anyone's X-Forwarded-Proto is dropped: plain http, no Secure cookie.
    direct = running()
    assert "Secure" not in direct("GET", "/", {"X-Forwarded-Proto": "https"}).getheader("Set-Cookie")


def test_off_loopback_without_accounts_it_refuses_to_start_and_makes_no_database(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert serve("0.0.0.0", 0, tmp_path / "sheets", None) == 3
    error = capsys.readouterr().err
    assert "dosing: refused: --host: 0.0.0.0 is not only this machine, and there are no accounts to log in with" in error
    assert "create accounts first: dosing users add NAME --role pharmacist; or serve on 127.0.0.1" in error
    url = f"sqlite:///{tmp_path / 'ward.sqlite'}"
    assert serve("0.0.0.0", 0, tmp_path / "sheets", None, db_url=url) == 3
    assert f"create accounts first: dosing users add NAME --role pharmacist --db {url}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither pharmacy.sqlite nor ward.sqlite was made to look in


def test_a_port_in_use_is_refused_with_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve("127.0.0.1", port, tmp_path / "sheets", None) == 3
    assert f"dosing: refused: --port: cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_the_team_server_only_with_a_database_that_has_users(database_url, tmp_path, monkeypatch):
    from dosing.store import accounts, open_database

    monkeypatch.chdir(tmp_path)
    assert team_database(None) is None  # no pharmacy.sqlite here: none looked at
    database = open_database(database_url)
    try:
        assert team_database(database_url) is None  # a database without users: the single-user page on loopback
        accounts.add_user(database, "anna", "pharmacist", "correct horse battery staple")
        found = team_database(database_url)
        assert found is not None and found.has_users()
        found.dispose()
    finally:
        database.dispose()


def test_the_host_list_has_this_machines_names_and_each_allowed_host(tmp_path):
    names = allowed_hosts("0.0.0.0", ("Ward-PC.hospital.example",))
    assert {"127.0.0.1", "localhost", "::1", "0.0.0.0", socket.gethostname().lower(), socket.getfqdn().lower(),
            "ward-pc.hospital.example"} <= set(names)
    client = create_app(tmp_path / "sheets", hosts=names).test_client()
    # Honest users typing the machine's name are answered; a name pointed at it from elsewhere (DNS rebinding) is not.
    for host in (f"{socket.gethostname()}:8400", socket.getfqdn(), "WARD-PC.hospital.example.", "[::1]:8400", "localhost"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host
    refused = client.get("/", headers={"Host": "attacker.example"})
    assert refused.status_code == 421 and "--allowed-host NAME" in refused.get_data(as_text=True)


@pytest.mark.parametrize("host, name", [("127.0.0.1:8400", "127.0.0.1"), ("[::1]:8400", "::1"), ("[::1]", "::1"),
                                        ("Ward-PC.:80", "ward-pc"), ("::1", "::1"), ("", "")])
def test_host_name(host, name):
    assert host_name(host) == name


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
                                            ("[::1]", True), ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("ward-pc", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback
