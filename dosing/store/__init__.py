"""The pharmacy server's records (`dosing serve --db URL`): accounts, orders and the chain they pass through, the audit trail.

SQLAlchemy over SQLite (the default) or PostgreSQL, the schema made and kept
by Alembic migrations. Nothing here computes a dose: dosing.pharmacy computes
with the engine and hands the results here to be kept.

- database.py: open a URL, bring the schema up to date, sessions;
- models.py: the tables (what is only ever added to, and why);
- migrations/: Alembic's migrations, applied by `open_database`;
- accounts.py: users (argon2id), logins, sessions that expire, slowing repeated failures;
- orders.py: prepared -> verified -> issued (or rejected), administrations, history, the audit;
- imported.py: an existing issue-log.sqlite brought in.
"""

from dosing.store.database import DEFAULT_URL, Database, open_database, shown

__all__ = ["DEFAULT_URL", "Database", "open_database", "shown"]
