"""The pharmacy server's tables: who may log in, each order and every step taken on it.

Nothing a clinician relies on is ever deleted or overwritten: an order's
`state` and `revision` are the only values that change after they are written
(the state machine in orders.py moves them, one step at a time, with a
conditional UPDATE on `revision`); events, documents, drafts and
administrations are only ever added (the migration adds database triggers
that refuse UPDATE and DELETE on them). A correction is a new row that names
the one it corrects.

The schema is made by the Alembic migrations in migrations/versions, never by
`create_all`; tests/test_store.py checks the two agree.
"""

from datetime import datetime

from sqlalchemy import (Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    """A person who logs in: a pharmacist, a nurse or an admin. Disabled, never deleted (the audit names them)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))  #: argon2id, as argon2-cffi writes it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginSession(Base):
    """A login: the cookie holds a random token; only its SHA-256 is kept. Ended by logout or by time."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    remote: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LoginAttempt(Base):
    """Each login tried, for slowing down repeated failures (by name and by address)."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    remote: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean)


class Order(Base):
    """One version of a phase's orders for one patient, and where it is in the chain.

    prepared -> verified -> issued, or prepared -> rejected. A correction is a
    new version (`replaces` names the one before).
    """

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("patient_id", "phase", "start", "version"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  #: uuid4 hex
    patient_id: Mapped[str] = mapped_column(String(128), index=True)
    phase: Mapped[str] = mapped_column(String(64))
    start: Mapped[str] = mapped_column(String(10))  #: day 1, YYYY-MM-DD
    version: Mapped[int] = mapped_column(Integer)
    replaces: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer, default=1)  #: bumped by every state change (no lost update)
    changes: Mapped[str] = mapped_column(Text, default="")  #: what changed from the version it replaces, in words
    patient_toml: Mapped[str] = mapped_column(Text)
    options: Mapped[str] = mapped_column(Text)  #: JSON, as the issue log records them
    orders: Mapped[str] = mapped_column(Text)  #: JSON, the same as --format json
    warnings: Mapped[str] = mapped_column(Text)  #: JSON list of sentences, as the sheet prints them
    tool_version: Mapped[str] = mapped_column(String(32))
    regimen_sha256: Mapped[str] = mapped_column(String(64))
    prepared_by: Mapped[str] = mapped_column(String(64))
    prepared_at: Mapped[datetime] = mapped_column(DateTime)
    imported_from: Mapped[str | None] = mapped_column(String(400), nullable=True, unique=True)  #: an issue-log entry, once


class Draft(Base):
    """A document as the verifier sees it (HTML), made when the order is prepared; the PDF is laid out from it."""

    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    html: Mapped[str] = mapped_column(Text)


class Document(Base):
    """An issued file: its bytes kept in the database, so every ward computer gets the same file."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    name: Mapped[str] = mapped_column(String(260), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  #: None: imported, the file was not beside the log


class Administration(Base):
    """A nurse's record of one dose: given (when, two initials, batch) or not given (why). A correction is a new row."""

    __tablename__ = "administrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    item: Mapped[int] = mapped_column(Integer)  #: the administration's position (from 1) in the order's JSON administrations
    given: Mapped[bool] = mapped_column(Boolean)
    given_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    given_by: Mapped[str | None] = mapped_column(String(8), nullable=True)  #: initials of the nurse who gave it
    checked_by: Mapped[str | None] = mapped_column(String(8), nullable=True)  #: initials of the second nurse who checked it
    batch: Mapped[str | None] = mapped_column(String(64), nullable=True)
    not_given_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    corrects: Mapped[int | None] = mapped_column(ForeignKey("administrations.id"), nullable=True)


class Event(Base):
    """The audit trail: every step anyone took, oldest first. Only ever added to."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")  #: JSON


#: tables only ever added to: the migration refuses UPDATE and DELETE on them in the database itself
APPEND_ONLY = ("events", "drafts", "documents", "administrations")
