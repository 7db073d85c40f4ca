"""Accounts (dosing.store.accounts) on SQLite and on a real PostgreSQL: argon2id, logins, throttling, sessions, the audit.

Times are injected (`now`), so the 30-minute and 12-hour ends and the waits
are tested to the second without sleeping. Every expected wait is worked by
hand from the rule: 5 failures free for a name, then 2 ** (failures - 5) s
after the last failure, at most 300 s; 20 free for an address.
"""

import hashlib
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from dosing.errors import InputError
from dosing.store import accounts, open_database
from dosing.store.models import Base, Event, LoginAttempt, LoginSession, User

PASSWORD = "tincture of opium 42"
T0 = datetime(2026, 6, 1, 8, 0, 0)


def at(seconds=0, minutes=0, hours=0):
    return T0 + timedelta(seconds=seconds, minutes=minutes, hours=hours)


@pytest.fixture
def db(database_url):
    database = open_database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def anna(db):
    accounts.add_user(db, "anna", "pharmacist", PASSWORD)
    return "anna"


@pytest.fixture
def checks(monkeypatch):
    """The stored hashes the password was checked against, in order (to see when it was not checked at all)."""
    seen, real = [], accounts._password_matches

    def spy(stored, password):
        seen.append(stored)
        return real(stored, password)

    monkeypatch.setattr(accounts, "_password_matches", spy)
    return seen


@pytest.fixture
def quick_hashing(monkeypatch):
    """A cheap argon2id (1 pass, 8 KiB) for the tests about counting and time, where 0.1 s a check only slows the run."""
    from argon2 import PasswordHasher

    quick = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", lambda: quick)
    return quick


def events(db) -> list[tuple]:
    with db.session() as session:
        return [(e.action, e.user_name, e.reason) for e in session.scalars(select(Event).order_by(Event.id))]


def every_text(db) -> str:
    """Every value in every table, as one text (to look for what must never be kept)."""
    found = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                found += [str(v) for v in row]
    return "\n".join(found)


def test_the_password_is_kept_only_as_an_argon2id_hash_and_the_token_only_as_its_sha256(db, anna):
    user, token = accounts.log_in(db, "anna", PASSWORD, "10.1.2.3", now=at())
    accounts.log_in(db, "anna", PASSWORD + "x", "10.1.2.3", now=at(1))  # a wrong one is not kept either
    with db.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.name == "anna"))
        sessions = session.scalars(select(LoginSession.token_sha256)).all()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert sessions == [hashlib.sha256(token.encode()).hexdigest()]
    kept = every_text(db)
    assert "opium" not in kept and token not in kept and "anna" in kept  # the scan does see the tables' text
    assert len(token) >= 43 and user.csrf_token != token and len(user.csrf_token) >= 43


def test_names_roles_and_passwords_refused_with_the_field_and_the_fix(db, anna):
    def refused(name, role, password):
        with pytest.raises(InputError) as caught:
            accounts.add_user(db, name, role, password)
        return caught.value

    assert refused("Anna", "nurse", PASSWORD).field == "USER"  # the same name whatever its capitals
    assert "'anna' already exists" in str(refused("ANNA", "nurse", PASSWORD))
    assert refused("a b", "nurse", PASSWORD).field == "USER"
    assert refused("", "nurse", PASSWORD).field == "USER"
    assert refused("x" * 65, "nurse", PASSWORD).field == "USER"
    assert refused("bo\u0301b", "nurse", PASSWORD).field == "USER"  # letters are ASCII: no look-alike names
    wrong_role = refused("bob", "doctor", PASSWORD)
    assert wrong_role.field == "--role" and "pharmacist, nurse or admin" in wrong_role.fix
    short = refused("bob", "nurse", "x" * 11)
    assert short.field == "password" and "11 characters, fewer than 12" in short.problem
    assert refused("bob.the.nurse", "nurse", "BOB.THE.NURSE").field == "password"  # the name itself, whatever its capitals
    accounts.add_user(db, "x" * 64, "nurse", "y" * 12)  # the longest name and the shortest password both accepted
    accounts.add_user(db, "b.o_b-2", "admin", PASSWORD, created_by="anna")
    assert [(u["name"], u["role"], u["active"]) for u in accounts.list_users(db)] == [
        ("anna", "pharmacist", True), ("b.o_b-2", "admin", True), ("x" * 64, "nurse", True)]
    assert [(a, who) for a, who, _ in events(db)] == [("user_added", "command line"), ("user_added", "command line"),
                                                      ("user_added", "anna")]


def test_login_right_wrong_unknown_and_disabled(db, anna, checks):
    user, token = accounts.log_in(db, "Anna", PASSWORD, "10.1.2.3", now=at())  # the name is found whatever its capitals
    assert (user.name, user.role) == ("anna", "pharmacist")
    assert accounts.session_user(db, token, now=at(1)) == user
    assert accounts.log_in(db, "anna", PASSWORD.upper(), "10.1.2.3", now=at(2)) is None
    assert accounts.log_in(db, "nobody", PASSWORD, "10.1.2.3", now=at(3)) is None
    # An unknown name still costs one argon2 check (against a dummy hash), so the time does not tell who exists.
    assert len(checks) == 3 and all(h.startswith("$argon2id$") for h in checks) and checks[2] != checks[0]
    accounts.disable_user(db, "ANNA", by="root (command line)", now=at(4))
    assert accounts.session_user(db, token, now=at(5)) is None  # her open session ended with the account
    assert accounts.log_in(db, "anna", PASSWORD, "10.1.2.3", now=at(6)) is None
    assert [u["active"] for u in accounts.list_users(db)] == [False]
    assert events(db)[1:] == [("login", "anna", None), ("login_failed", "anna", "wrong password"),
                              ("login_failed", "(unknown name)", "unknown name"), ("user_disabled", "root (command line)", None),
                              ("login_failed", "anna", "account disabled")]
    with db.session() as session:
        attempts = session.execute(select(LoginAttempt.name, LoginAttempt.succeeded).order_by(LoginAttempt.id)).all()
    assert [ok for _, ok in attempts] == [True, False, False, False]
    assert "nobody" not in every_text(db)  # a name that is nobody's may be a password typed in the wrong box


def test_throttled_from_the_fifth_failure_the_wait_doubling_and_the_password_not_checked(quick_hashing, db, anna, checks):
    for second in range(5):  # five failures, each allowed and checked
        assert accounts.log_in(db, "anna", "wrong password!", "10.0.0.1", now=at(second)) is None
    assert len(checks) == 5
    with pytest.raises(accounts.Throttled) as caught:  # right after the 5th: 2 ** 0 = 1 s after 08:00:04
        accounts.log_in(db, "anna", PASSWORD, "10.0.0.2", now=at(4))  # even the right password, from another address
    assert caught.value.retry_after == 1 and str(caught.value) == "too many failed logins; try again in 1 second"
    assert len(checks) == 5  # not checked during the wait
    assert accounts.log_in(db, "anna", "wrong password!", "10.0.0.1", now=at(5)) is None  # the wait is over: 6th failure
    with pytest.raises(accounts.Throttled) as caught:
        accounts.log_in(db, "anna", PASSWORD, "10.0.0.1", now=at(5))
    assert caught.value.retry_after == 2  # 2 ** 1 after 08:00:05
    with pytest.raises(accounts.Throttled) as caught:
        accounts.log_in(db, "anna", PASSWORD, "10.0.0.1", now=at(6))
    assert caught.value.retry_after == 1
    assert accounts.log_in(db, "anna", "wrong password!", "10.0.0.1", now=at(7)) is None  # 7th failure
    with pytest.raises(accounts.Throttled) as caught:
        accounts.log_in(db, "anna", PASSWORD, "10.0.0.1", now=at(7))
    assert caught.value.retry_after == 4 and "4 seconds" in str(caught.value)
    assert len(checks) == 7
    # A success after the wait resets the count: the next failure is the first again.
    assert accounts.log_in(db, "anna", PASSWORD, "10.0.0.1", now=at(11)) is not None
    for second in range(12, 17):
        assert accounts.log_in(db, "anna", "wrong password!", "10.0.0.1", now=at(second)) is None
    with pytest.raises(accounts.Throttled):
        accounts.log_in(db, "anna", PASSWORD, "10.0.0.1", now=at(16))
    actions = [a for a, _, _ in events(db)]
    assert actions.count("login_throttled") == 5 and actions.count("login_failed") == 12 and actions.count("login") == 1


def test_the_wait_is_at_most_five_minutes_and_failures_older_than_fifteen_minutes_do_not_count(quick_hashing, db, anna):
    with db.transaction() as session:  # 30 failures in the minute before 08:00: 2 ** 25 s, capped at 300 s
        session.add_all(LoginAttempt(name="anna", remote="10.0.0.1", at=at(-60 + i), succeeded=False) for i in range(30))
    with pytest.raises(accounts.Throttled) as caught:
        accounts.log_in(db, "anna", PASSWORD, "10.0.0.1", now=at())
    assert caught.value.retry_after == 300 - 31  # until 300 s after the last failure at 07:59:29, 08:04:29
    with pytest.raises(accounts.Throttled) as caught:
        accounts.log_in(db, "anna", PASSWORD, "10.0.0.1", now=at(minutes=4, seconds=28))
    assert caught.value.retry_after == 1
    assert accounts.log_in(db, "anna", PASSWORD, "10.0.0.1", now=at(minutes=4, seconds=29)) is not None
    with db.transaction() as session:  # since that success: 10 failures 08:10:00 .. 08:10:09
        session.add_all(LoginAttempt(name="anna", remote="10.0.0.1", at=at(minutes=10, seconds=i), succeeded=False) for i in range(10))
    # At 08:24:59 all ten are within 15 minutes (and 2 ** 5 s after 08:10:09 has passed): an 11th failure, then 2 ** 6 s.
    assert accounts.log_in(db, "anna", "wrong password!", "10.0.0.1", now=at(minutes=24, seconds=59)) is None
    with pytest.raises(accounts.Throttled) as caught:
        accounts.log_in(db, "anna", PASSWORD, "10.0.0.1", now=at(minutes=24, seconds=59))
    assert caught.value.retry_after == 64
    # At 08:25:10 the ten are over 15 minutes old: one failure counts, no wait.
    assert accounts.log_in(db, "anna", PASSWORD, "10.0.0.1", now=at(minutes=25, seconds=10)) is not None


def test_twenty_failures_from_one_address_slow_every_name_from_it(quick_hashing, db, anna):
    with db.transaction() as session:
        session.add_all(LoginAttempt(name=f"someone{i}", remote="10.9.9.9", at=at(i), succeeded=False) for i in range(20))
    with pytest.raises(accounts.Throttled) as caught:
        accounts.log_in(db, "anna", PASSWORD, "10.9.9.9", now=at(19))
    assert caught.value.retry_after == 1  # 2 ** 0 after the 20th at 08:00:19
    assert accounts.log_in(db, "anna", PASSWORD, "10.1.1.1", now=at(19)) is not None  # another ward computer
    assert accounts.log_in(db, "anna", PASSWORD, "10.9.9.9", now=at(20)) is not None  # after the wait, and it resets
    assert accounts.log_in(db, "bob", PASSWORD, "10.9.9.9", now=at(20)) is None  # counted afresh: not throttled


def test_unknown_names_are_throttled_too(quick_hashing, db, checks):
    for second in range(5):
        assert accounts.log_in(db, "ghost", "guess number one", "10.0.0.1", now=at(second)) is None
    with pytest.raises(accounts.Throttled):
        accounts.log_in(db, "GHOST", "guess number two", "10.0.0.7", now=at(4))
    assert len(checks) == 5


def test_a_session_ends_after_thirty_minutes_unused(quick_hashing, db, anna):
    user, token = accounts.log_in(db, "anna", PASSWORD, "10.1.2.3", now=at())
    assert accounts.session_user(db, token, now=at(minutes=29, seconds=59)) == user  # and that use counts from here
    assert accounts.session_user(db, token, now=at(minutes=59, seconds=58)) == user  # 29:59 after the last use
    assert accounts.session_user(db, token, now=at(minutes=89, seconds=58)) is None  # 30:00 after it
    assert accounts.session_user(db, token, now=at(minutes=90)) is None  # ended stays ended
    assert events(db)[-1] == ("session_expired", "anna", "unused for 30 minutes")


def test_a_session_ends_twelve_hours_after_login_however_much_it_is_used(quick_hashing, db, anna):
    user, token = accounts.log_in(db, "anna", PASSWORD, "10.1.2.3", now=at())
    for minutes in range(20, 12 * 60, 20):
        assert accounts.session_user(db, token, now=at(minutes=minutes)) == user
    assert accounts.session_user(db, token, now=at(hours=12, seconds=-1)) == user
    assert accounts.session_user(db, token, now=at(hours=12)) is None
    assert events(db)[-1] == ("session_expired", "anna", "12 hours after login")


def test_logout_ends_the_session_and_only_that_one(quick_hashing, db, anna):
    first, token = accounts.log_in(db, "anna", PASSWORD, "10.1.2.3", now=at())
    second, other = accounts.log_in(db, "anna", PASSWORD, "10.1.2.4", now=at(1))
    assert first.session_id != second.session_id and first.csrf_token != second.csrf_token
    accounts.log_out(db, token)
    accounts.log_out(db, token)  # twice: nothing more to end, nothing more recorded
    accounts.log_out(db, "not a token")
    assert accounts.session_user(db, token, now=at(2)) is None
    assert accounts.session_user(db, other, now=at(2)) == second
    assert accounts.session_user(db, None) is None and accounts.session_user(db, "") is None
    assert [a for a, _, _ in events(db)] == ["user_added", "login", "login", "logout"]


def test_the_audit_events_name_who_and_from_where_and_never_a_secret(db, anna):
    _, token = accounts.log_in(db, "anna", PASSWORD, "10.1.2.3", now=at())
    accounts.log_in(db, "anna", "my other password", "10.1.2.3", now=at(1))
    accounts.log_out(db, token)
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT user_name, role, action, reason, detail FROM events ORDER BY id")).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [("command line", "operator", "user_added"), ("anna", "pharmacist", "login"),
                                                  ("anna", "pharmacist", "login_failed"), ("anna", "pharmacist", "logout")]
    assert json.loads(rows[0][4]) == {"name": "anna", "role": "pharmacist"}
    assert json.loads(rows[1][4])["remote"] == "10.1.2.3"
    everything = repr(rows)
    for secret in (PASSWORD, "my other password", token, hashlib.sha256(token.encode()).hexdigest()):
        assert secret not in everything


def test_tries_made_in_parallel_count_against_each_other(quick_hashing, db, anna, checks):
    """Eight wrong passwords for one name at once (real threads): five are checked, then the wait holds the rest."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    start = Barrier(8)

    def attempt(i):
        start.wait()
        try:
            return accounts.log_in(db, "anna", f"wrong password {i}", f"10.0.0.{i}", now=at())
        except accounts.Throttled as exc:
            return exc.retry_after

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert sorted(results, key=str) == [1, 1, 1, None, None, None, None, None]
    assert len(checks) == 5


def test_a_hash_made_with_weaker_settings_is_made_again_at_the_next_login(database_url, monkeypatch):
    from argon2 import PasswordHasher

    db = open_database(database_url)
    try:
        weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        monkeypatch.setattr(accounts, "_hasher", lambda: weak)
        accounts.add_user(db, "anna", "pharmacist", PASSWORD)
        monkeypatch.undo()  # argon2-cffi's own defaults again, as after an upgrade of the library
        with db.session() as session:
            assert session.scalar(select(User.password_hash)).startswith("$argon2id$v=19$m=8,t=1,p=1$")
        assert accounts.log_in(db, "anna", PASSWORD, "10.1.2.3", now=at()) is not None
        with db.session() as session:
            assert session.scalar(select(User.password_hash)).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert accounts.log_in(db, "anna", PASSWORD, "10.1.2.3", now=at(1)) is not None  # the new hash checks
    finally:
        db.dispose()
