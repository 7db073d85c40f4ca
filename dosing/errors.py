"""The two ways input is refused.

Both are hard stops: the command prints the message and exits 3, and no sheet
is written. The message always names where the trouble is and what to write
instead, because the person reading it is a pharmacist, not a programmer.
"""


class InputError(Exception):
    """A patient file, option or computed order that cannot be accepted."""

    def __init__(self, field: str, problem: str, fix: str = ""):
        self.field, self.problem, self.fix = field, problem, fix
        super().__init__(str(self))

    def within(self, prefix: str) -> "InputError":
        """The same error, with the field named from an outer table."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return InputError(field, self.problem, self.fix)

    def __str__(self) -> str:
        text = f"{self.field}: {self.problem}" if self.field else self.problem
        return f"{text}; {self.fix}" if self.fix else text


class RegimenError(Exception):
    """A regimen data file that fails validation."""

    def __init__(self, path, line: int | None, problem: str):
        self.path, self.line, self.problem = path, line, problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}, line {self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.problem}"
