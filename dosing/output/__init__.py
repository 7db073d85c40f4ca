"""Writing issued sheets: inside the output folder, never over an earlier one, all or nothing (the data flow's last step).

- issuing.py: `issue` and `write_new`, the all-or-nothing write under the folder lock, with its journal and test hooks;
- recovery.py: rolling back what a stopped run left (`recover`), and `unfinished` for `dosing verify`;
- folder.py: the --out folder made ready, the lock, durable writes;
- names.py: file names built only from the patient id, phase and start (`safe_id`, `safe_stem`).

The issue log itself (what was issued, sealed) is dosing.issue_log.
"""

from dosing.output.folder import LOCK_NAME, LOCK_WAIT_SECONDS, WORKING, locked, ready_folder
from dosing.output.issuing import POINTS, AlreadyIssued, NotIssued, issue, write_new
from dosing.output.names import safe_id, safe_stem
from dosing.output.recovery import recover, unfinished

__all__ = ["LOCK_NAME", "LOCK_WAIT_SECONDS", "POINTS", "WORKING", "AlreadyIssued", "NotIssued", "issue", "locked", "ready_folder",
           "recover", "safe_id", "safe_stem", "unfinished", "write_new"]
