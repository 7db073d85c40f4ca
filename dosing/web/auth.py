"""Sessions and CSRF for the team server: who is asking, whether their role may, and whether a write is really theirs.

The login's random token travels in one cookie (`dosing_session`: HttpOnly, so
no script reads it; SameSite=Strict, so no other site's page sends it; Secure
when the request came over https); the database keeps only its hash and ends
it by time or logout (dosing.store.accounts). Every write also carries the
session's CSRF token (a form's `token` field or the API's X-CSRF-Token header),
compared in constant time.

The database is found on the app (`use(app, database)`; dosing.web.api's
blueprint does it when registered), so these helpers need no arguments.
"""

import functools
import secrets

import flask

COOKIE = "dosing_session"
EXTENSION = "dosing.database"  #: app.extensions key holding the dosing.store.Database


def use(app, database) -> None:
    """Tell the helpers below which database holds the sessions."""
    app.extensions[EXTENSION] = database


def database():
    return flask.current_app.extensions[EXTENSION]


def current_user():
    """The logged-in user (accounts.SessionUser) from the request's cookie, or None; looked up once per request."""
    if "dosing_user" not in flask.g:
        from dosing.store import accounts

        token = flask.request.cookies.get(COOKIE, "")
        # A token is ASCII (secrets.token_urlsafe); anything else cannot be one and is not looked up.
        flask.g.dosing_user = accounts.session_user(database(), token) if token and token.isascii() and len(token) < 200 else None
    return flask.g.dosing_user


def csrf_token() -> str:
    """The session's CSRF token ('' without a session), for a form's hidden `token` field."""
    user = current_user()
    return user.csrf_token if user else ""


def is_api() -> bool:
    return flask.request.path == "/api" or flask.request.path.startswith("/api/")


def refuse(status: int, error: str, fix: str = ""):
    """A refusal as the asker reads it: JSON for the API, the sentence as plain text for a page."""
    if is_api():
        body = {"error": error, **({"fix": fix} if fix else {})}
        return flask.make_response(flask.jsonify(body), status)
    return flask.make_response(f"{error}{'; ' + fix if fix else ''}\n", status, {"Content-Type": "text/plain; charset=utf-8"})


def not_logged_in():
    """The API's 401, in one wording wherever it is given (team.guard, require)."""
    return refuse(401, "not logged in, or the session has ended", 'log in: POST /api/login {"user": "...", "password": "..."}')


def require(*roles: str):
    """A view for logged-in users only (401: JSON for /api/, a redirect to /login for pages), of these roles if given (403)."""
    def decorator(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            user = current_user()
            if user is None:
                if not is_api():
                    return flask.redirect("/login", 303)
                return not_logged_in()
            if roles and user.role not in roles:
                return refuse(403, f"{user.name} is a {user.role}; this needs a {' or '.join(roles)}")
            return view(*args, **kwargs)

        return guarded

    return decorator


def writes(*roles: str):
    """A view that changes something: a session (401), its CSRF token (403), then the role (403)."""
    def decorator(view):
        allowed = require(*roles)(view)

        @functools.wraps(view)
        def checked(*args, **kwargs):
            check_csrf()
            return allowed(*args, **kwargs)

        return require()(checked)

    return decorator


def check_csrf() -> None:
    """For a write: the form's `token` or the X-CSRF-Token header must be this session's token (abort 403 otherwise)."""
    if flask.request.method in ("GET", "HEAD", "OPTIONS"):
        return
    user = current_user()
    sent = flask.request.headers.get("X-CSRF-Token") or (flask.request.form.get("token", "") if not is_api() else "")
    if user is None or not secrets.compare_digest(sent.encode("utf-8", "replace"), user.csrf_token.encode("utf-8")):
        flask.abort(refuse(403, "the request does not carry this session's CSRF token (it expired, or came from another site)",
                           "send the csrf_token the login returned in the X-CSRF-Token header" if is_api() else "reload the page"))


def set_session_cookie(response, token: str):
    """The login's cookie: HttpOnly, SameSite=Strict, Secure over https, for the whole site."""
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=flask.request.is_secure, path="/")
    return response


def clear_session_cookie(response):
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict", secure=flask.request.is_secure)
    return response
