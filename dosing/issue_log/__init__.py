"""The issue log: every sheet issued, kept beside the sheets in issue-log.sqlite (the data flow's last step, issue).

For each issue: when, the patient file (its hash and a copy), the regimen
data (its hash), the options, the tool version, the orders as computed, and
the hash of each file written. Issuing the same phase again with something
changed makes a new numbered version that names the version it replaces and
what changed; the older files stay as they were. Issuing it again with
nothing changed is refused: the sheet already issued stands.

- store.py: the tables; IssueLog records an issue and reads versions back, LogReader only reads (verify);
- chain.py: the tamper-evident seal on every entry (DOSING_LOG_KEY / DOSING_LOG_KEY_FILE), and check_chain;
- differences.py: what changed between two versions, in words;
- hashes.py: the SHA-256 of a file, and one hash over the regimen data;
- connection.py: opening the file, a damaged log refused with a clear message.
"""

from dosing.issue_log.chain import (CHAIN_COLUMNS, GENESIS, MIN_KEY_BYTES, SEALED, ChainCheck, add_chain_columns, check_chain,
                                    entry_hash, key_id, label, log_key, seal, seal_name)
from dosing.issue_log.connection import DAMAGE, FILE_NAME, Checked, connect, damaged, well_formed
from dosing.issue_log.differences import changes, dose_changes
from dosing.issue_log.hashes import regimen_hash, sha256
from dosing.issue_log.store import SCHEMA, Issue, IssueLog, LogReader

__all__ = ["CHAIN_COLUMNS", "DAMAGE", "FILE_NAME", "GENESIS", "MIN_KEY_BYTES", "SCHEMA", "SEALED", "ChainCheck", "Checked", "Issue",
           "IssueLog", "LogReader", "add_chain_columns", "changes", "check_chain", "connect", "damaged", "dose_changes", "entry_hash",
           "key_id", "label", "log_key", "regimen_hash", "seal", "seal_name", "sha256", "well_formed"]
