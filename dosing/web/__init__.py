"""`dosing serve`: everything the command line does, as a page in the browser, on this machine.

The page is a form with the patient file's own fields (named as the file names
them, so an error such as `measurements[1].weight` lands beside its box). It
writes the same TOML the command line reads, reads the sheet's options with the
same parsers into the same request (dosing.requests), and then calls the same
steps: `patient.load` checks the fields, `pathway.plan` gives the plan,
`issuing.prepare` computes and builds the documents, `render` makes the HTML
and PDF, and `Pending.finish` writes them into the output folder and the issue
log. Nothing is implemented twice, and the page never imports the command line.

- `serving`: `serve` (waitress), which mode to serve, and the names it answers to;
- `app`: the routes, the guards every request passes;
- `form`: form rows <-> the patient file's TOML, the sheet's options, and each box's label;
- `messages`: the engine's messages in the form's own words;
- `actions`: plan, preview, issue, resume and verify;
- `team` (with a database that has users): logins and the prepare -> verify -> issue chain.

Safe by default: it listens on 127.0.0.1; it answers only requests addressed to
a name of this machine (no DNS rebinding) and carrying its own form token (no
cross-site posts); a sheet is handed out only with the page's own cookie; it
refuses bodies over 256 kB; the page loads nothing from anywhere
(Content-Security-Policy), runs no script, and shows each sheet in a sandboxed
frame; Jinja2 escapes every value. Off loopback it serves only the team's
server, where nothing but the login page answers without a session.
"""

from dosing.web.app import create_app
from dosing.web.serving import serve
from dosing.web.form import form_values, patient_data, patient_toml

__all__ = ["create_app", "form_values", "patient_data", "patient_toml", "serve"]
