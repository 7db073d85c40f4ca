"""Who may log in to the pharmacy server: users, logins, sessions that end, and slowing repeated failures.

Passwords are kept only as argon2id hashes (argon2-cffi's PasswordHasher with
its own defaults, re-hashed at the next login when those defaults grow). A
login gives a random token for the cookie; the database keeps only its
SHA-256, so a copy of the database cannot be used to log in. A session ends
at logout, after IDLE_MINUTES unused, LONGEST_HOURS after the login (one
shift), or when its user is disabled.

Every step is an event in the audit trail (dosing.store.audit), written in
the step's own transaction; no event ever holds a password or a token.
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

import attrs

from dosing.errors import InputError
from dosing.store import audit

ROLES = ("pharmacist", "nurse", "admin")
MIN_PASSWORD_LENGTH = 12  #: NIST SP 800-63B asks at least 8; 12 for a system that issues chemotherapy
MAX_PASSWORD_LENGTH = 1024  #: longer is a paste gone wrong, not a pass phrase
IDLE_MINUTES = 30  # a session unused this long ends
LONGEST_HOURS = 12  # a session ends this long after login, used or not (one shift)

# Slowing repeated failures (Warehouse's TooManyFailedLogins, in seconds rather than a lock-out): failures count
# within WINDOW since the last success; past FREE_FAILURES (for a name; FREE_FAILURES_ADDRESS from one address, a
# ward computer many people share) each try waits 2 ** (failures - free) seconds after the last failure, at most LONGEST_WAIT.
WINDOW = timedelta(minutes=15)
FREE_FAILURES = 5
FREE_FAILURES_ADDRESS = 20
LONGEST_WAIT = 300

NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
COMMAND_LINE_ROLE = "operator"  #: the role an event names when the step came from the server's own command line


@attrs.frozen
class SessionUser:
    """The person behind a request: what the web and the store need to know of them."""

    name: str
    role: str
    csrf_token: str  #: every write sends it back (X-CSRF-Token or the form's "token")
    session_id: int


class Throttled(Exception):
    """Too many failed logins: the next try must wait; the password was not checked."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"too many failed logins; try again in {self.retry_after} second{'' if self.retry_after == 1 else 's'}"


@cache
def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, 64 MiB, 3 passes: the library's (RFC 9106's second) recommendation


@cache
def _dummy_hash() -> str:
    # An unknown name still costs one argon2 verification, so the time taken does not tell which names exist.
    return _hasher().hash(secrets.token_urlsafe(16))


def _password_matches(stored: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _find(session, name: str, lock: bool = False):
    """The user whose name is `name` whatever its capitals, or None (`lock`: their row held until the transaction ends)."""
    from sqlalchemy import func, select

    from dosing.store.models import User

    query = select(User).where(func.lower(User.name) == name.lower())
    return session.scalar(query.with_for_update() if lock else query)


def _actor_role(session, name: str) -> str:
    user = _find(session, name)
    return user.role if user is not None else COMMAND_LINE_ROLE


def check_new_user(name: str, role: str, password: str) -> None:
    """Refuse a name, role or password that cannot be an account, naming the field and the fix."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InputError("USER", f"{name!r} cannot be a user name",
                         "use 1 to 64 letters, digits, dots, hyphens or underscores (e.g. a.smith)")
    if role not in ROLES:
        raise InputError("--role", f"{role!r} is not a role", "give pharmacist, nurse or admin")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError("password", f"the password has {len(password)} characters, fewer than {MIN_PASSWORD_LENGTH}",
                         f"choose one of at least {MIN_PASSWORD_LENGTH} characters (a few words make a good one)")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError("password", f"the password has {len(password)} characters, more than {MAX_PASSWORD_LENGTH}",
                         "choose a shorter one")
    if password.casefold() == name.casefold():
        raise InputError("password", "the password is the user name", "choose a password nobody can guess from the name")


def add_user(db, name: str, role: str, password: str, created_by: str | None = None) -> None:
    """A new account (names are unique whatever their capitals: "Anna" is refused when "anna" exists)."""
    from sqlalchemy.exc import IntegrityError

    from dosing.store.models import User

    check_new_user(name, role, password)
    hashed = _hasher().hash(password)  # before the transaction: 0.1 s not spent holding the database's write lock
    by = created_by or "command line"
    try:
        with db.transaction() as session:
            existing = _find(session, name)
            if existing is not None:
                raise _taken(name, existing.name)
            at = audit.now()
            session.add(User(name=name, role=role, password_hash=hashed, active=True, created_at=at, created_by=created_by))
            session.flush()
            audit.record(session, by, _actor_role(session, by), "user_added", detail={"name": name, "role": role}, at=at)
    except IntegrityError:  # another add of the same name won the race between our look-up and our insert
        raise _taken(name, name) from None


def _taken(name: str, existing: str) -> InputError:
    return InputError("USER", f"a user named {existing!r} already exists (names are the same whatever their capitals)",
                      f"choose another name than {name!r}; dosing users list shows them all")


def _throttle_key(name: str, user) -> str:
    # A name that is nobody's may be a password typed into the wrong box: it is kept only as a hash.
    if user is not None:
        return user.name.lower()
    return "unknown:" + hashlib.sha256(name.lower().encode("utf-8")).hexdigest()[:56]


def _wait(session, column, value, free: int, now: datetime) -> int:
    """Seconds still to wait for failures counted on `column == value` (0: no wait)."""
    from sqlalchemy import func, select

    from dosing.store.models import LoginAttempt

    last_success = session.scalar(select(func.max(LoginAttempt.id)).where(column == value, LoginAttempt.succeeded.is_(True)))
    failed = select(func.count(), func.max(LoginAttempt.at)).where(
        column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= now - WINDOW,
        LoginAttempt.id > (last_success or 0))
    count, last = session.execute(failed).one()
    if count < free:
        return 0
    ready = last + timedelta(seconds=min(2 ** (count - free), LONGEST_WAIT))
    return max(0, int((ready - now).total_seconds()))


def log_in(db, name: str, password: str, remote: str, now: datetime | None = None):
    """(the user, the cookie's token), or None for an unknown name, a wrong password or a disabled user.

    Raises Throttled, without checking the password, while repeated failures
    must wait. The attempt is recorded as failed before the password is
    checked, so tries made in parallel count against each other.
    """
    from dosing.store.models import LoginAttempt, LoginSession, User

    now = now or audit.now()
    name, remote = str(name or "")[:200], str(remote or "")[:64]
    password = password if isinstance(password, str) else ""  # a JSON number or list is simply not the password
    with db.transaction() as session:
        # The user's row locked (PostgreSQL; SQLite's write lock does the same): parallel tries for one name count one by one.
        user = _find(session, name, lock=True) if NAME.fullmatch(name) else None
        key = _throttle_key(name, user)
        wait = max(_wait(session, LoginAttempt.name, key, FREE_FAILURES, now),
                   _wait(session, LoginAttempt.remote, remote, FREE_FAILURES_ADDRESS, now))
        who = (user.name, user.role) if user is not None else ("(unknown name)", "")
        if wait:
            audit.record(session, *who, "login_throttled", detail={"remote": remote, "wait_seconds": wait}, at=now)
        else:
            attempt = LoginAttempt(name=key, remote=remote, at=now, succeeded=False)
            session.add(attempt)
            session.flush()
            attempt_id, user_id, stored = attempt.id, user and user.id, user and user.password_hash
    if wait:
        raise Throttled(wait)
    # Checked outside any transaction: argon2's 0.1 s must not hold SQLite's write lock.
    matches = _password_matches(stored if stored else _dummy_hash(), password)
    rehashed = _hasher().hash(password) if matches and stored and _hasher().check_needs_rehash(stored) else None  # the library's defaults grew
    with db.transaction() as session:
        user = session.get(User, user_id) if user_id else None
        if not (matches and user is not None and user.active):
            why = "unknown name" if user is None else "account disabled" if not user.active else "wrong password"
            audit.record(session, *who, "login_failed", reason=why, detail={"remote": remote}, at=now)
            return None
        session.get(LoginAttempt, attempt_id).succeeded = True
        if rehashed:
            user.password_hash = rehashed
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        login = LoginSession(token_sha256=_digest(token), user_id=user.id, csrf_token=csrf, remote=remote,
                             created_at=now, last_seen=now)
        session.add(login)
        session.flush()
        audit.record(session, user.name, user.role, "login", detail={"remote": remote, "session": login.id}, at=now)
        return SessionUser(name=user.name, role=user.role, csrf_token=csrf, session_id=login.id), token


def session_user(db, token: str | None, now: datetime | None = None) -> SessionUser | None:
    """The user a cookie's token logs in, or None (unknown, ended, idle too long, too old: then it is ended here)."""
    from sqlalchemy import select

    from dosing.store.models import LoginSession, User

    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    now = now or audit.now()
    with db.transaction() as session:
        found = session.execute(select(LoginSession, User).join(User, LoginSession.user_id == User.id)
                                .where(LoginSession.token_sha256 == _digest(token))).one_or_none()
        if found is None or found[0].ended_at is not None:
            return None
        login, user = found
        why = ("account disabled" if not user.active
               else f"unused for {IDLE_MINUTES} minutes" if now - login.last_seen >= timedelta(minutes=IDLE_MINUTES)
               else f"{LONGEST_HOURS} hours after login" if now - login.created_at >= timedelta(hours=LONGEST_HOURS)
               else None)
        if why:
            login.ended_at = now
            audit.record(session, user.name, user.role, "session_expired", reason=why, detail={"session": login.id}, at=now)
            return None
        login.last_seen = max(login.last_seen, now)
        return SessionUser(name=user.name, role=user.role, csrf_token=login.csrf_token, session_id=login.id)


def log_out(db, token: str | None, now: datetime | None = None) -> None:
    """End the session the token belongs to (nothing to do for an unknown or ended one)."""
    from sqlalchemy import select

    from dosing.store.models import LoginSession, User

    if not token or not isinstance(token, str):
        return
    now = now or audit.now()
    with db.transaction() as session:
        found = session.execute(select(LoginSession, User).join(User, LoginSession.user_id == User.id)
                                .where(LoginSession.token_sha256 == _digest(token),
                                       LoginSession.ended_at.is_(None))).one_or_none()
        if found is not None:
            login, user = found
            login.ended_at = now
            audit.record(session, user.name, user.role, "logout", detail={"session": login.id}, at=now)


def list_users(db) -> list[dict]:
    """Every account, by name: name, role, active, created_at (ISO)."""
    from sqlalchemy import func, select

    from dosing.store.models import User

    with db.session() as session:
        users = session.scalars(select(User).order_by(func.lower(User.name))).all()
        return [{"name": u.name, "role": u.role, "active": bool(u.active),
                 "created_at": u.created_at.isoformat(timespec="seconds")} for u in users]


def disable_user(db, name: str, by: str, now: datetime | None = None) -> None:
    """Stop an account from logging in and end its open sessions. Never deleted: the audit trail names it."""
    from sqlalchemy import update

    from dosing.store.models import LoginSession

    now = now or audit.now()
    with db.transaction() as session:
        user = _find(session, str(name))
        if user is None:
            raise InputError("USER", f"there is no user named {name!r}", "dosing users list shows the names")
        if not user.active:
            return
        user.active = False
        ended = session.execute(update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
                                .values(ended_at=now)).rowcount
        audit.record(session, by, _actor_role(session, by), "user_disabled",
                     detail={"name": user.name, "sessions_ended": ended}, at=now)
