"""What an import did (or would do): counts, bad rows, assignment and balances after it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

LISTED_ERRORS = 50  # errors printed by render()
KEPT_ERRORS = 1000  # errors kept in the report; the rejects file has every one


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell or row: physical line (header is line 1), the file's column name, why."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass(slots=True)
class KindCounts:
    """Rows of one kind: created, updated, unchanged, rejected."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def render(self, kind: str) -> str:
        return (
            f"{kind}: {self.created:,} created, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {self.rejected:,} rejected"
        )


@dataclass(frozen=True, slots=True)
class CollectorAssignment:
    """Accounts given to one collector by auto-assignment."""

    collector_id: int
    slack_user_id: str
    name: str
    accounts: int
    past_due: Decimal


@dataclass(frozen=True, slots=True)
class ReleasedBook:
    """Accounts taken from a member who no longer collects (inactive, or a manager or admin)."""

    slack_user_id: str
    name: str
    accounts: int
    reason: str  # "inactive", "manager", "admin"


@dataclass(slots=True)
class ImportReport:
    """The outcome of `import_file`; `ok` is False when any row was bad."""

    kind: str
    path: Path
    dry_run: bool = False
    skip_invalid: bool = False
    rows: int = 0
    counts: KindCounts = field(default_factory=KindCounts)
    customers_created: int = 0  # by an invoice import, for customers it named
    payments_recorded: int = 0  # by an invoice import (amount paid) or a payments import
    unapplied: Decimal = Decimal("0.00")  # payment money beyond the open balance it could settle
    credit_customers: int = 0  # customers left with that money as unapplied credit
    credit_applied: Decimal = Decimal("0.00")  # customers' credit an invoice export's rise took
    payments_reversed: int = 0  # by --reverse-payments
    reversed_amount: Decimal = Decimal("0.00")
    # Invoices whose export showed less paid than the ledger records: (number, export, ledger).
    kept_payments: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    kept_payments_count: int = 0
    invoices_settled: int = 0
    promises_kept: int = 0
    promises_partially_kept: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    rejects_path: Path | None = None
    ignored_columns: list[str] = field(default_factory=list)
    assignment: list[CollectorAssignment] = field(default_factory=list)
    unassigned: int = 0  # customers still without a collector (no active collector)
    released: list[ReleasedBook] = field(default_factory=list)
    complete: bool = False  # every step ran (then rolled back if a dry run)
    committed: bool = False
    open_balance: Decimal = Decimal("0.00")
    past_due_balance: Decimal = Decimal("0.00")

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(error)

    def note_kept_payments(self, number: str, export: Decimal, ledger: Decimal) -> None:
        """An invoice export showed less paid than the ledger has: the ledger's figure stays."""
        self.kept_payments_count += 1
        if len(self.kept_payments) < KEPT_ERRORS:
            self.kept_payments.append((number, export, ledger))

    def _assignment_lines(self) -> list[str]:
        """Books taken back from members who no longer collect, and who got which accounts."""
        lines: list[str] = []
        for book in self.released:
            why = "is inactive" if book.reason == "inactive" else f"is a {book.reason}"
            lines.append(f"{book.name} ({book.slack_user_id}) {why}: {book.accounts:,} "
                         "account(s) taken back for assignment")
        for given in self.assignment:
            lines.append(
                f"assigned to {given.name} ({given.slack_user_id}): {given.accounts:,} "
                f"account(s), ${given.past_due:,.2f} past due"
            )
        if self.unassigned:
            lines.append(f"{self.unassigned:,} customer(s) without a collector "
                         "(no active collector on the team)")
        return lines

    def render(self) -> str:
        """The summary the CLI prints: the bad rows, then what the import did."""
        return "\n".join([*self.error_lines(), *self.summary_lines()])

    def error_lines(self) -> list[str]:
        """Each listed bad row (line, column, why), then how many there were."""
        lines: list[str] = []
        if self.error_count:
            lines.extend(str(e) for e in self.errors[:LISTED_ERRORS])
            if self.error_count > LISTED_ERRORS:
                lines.append(f"... and {self.error_count - LISTED_ERRORS:,} more")
            lines.append(
                f"{self.error_count:,} error(s) in {self.counts.rejected:,} row(s) "
                f"of {self.rows:,}"
            )
        return lines

    def summary_lines(self) -> list[str]:
        """What the import did (or would do); the first line says which."""
        lines = [f"{self._head()}: {self.path.name}"]
        if not self.committed and not self.dry_run:
            # Refused: counts of what good rows would have done would read as if written.
            good = self.rows - self.counts.rejected
            lines.append(f"{self.kind}: {self.rows:,} row(s) checked, {good:,} good, "
                         f"{self.counts.rejected:,} rejected; nothing written")
            return lines
        lines.append(self.counts.render(self.kind))
        lines.extend(self._ledger_lines())
        lines.extend(self._kept_payment_lines())
        if self.promises_kept or self.promises_partially_kept:
            lines.append(
                f"promises to pay: {self.promises_kept:,} kept, "
                f"{self.promises_partially_kept:,} partially kept"
            )
        if self.ignored_columns:
            lines.append(f"ignored columns: {', '.join(self.ignored_columns)}")
        if self.rejects_path is not None and self.counts.rejected:
            verb = "would write" if self.dry_run else "wrote"
            lines.append(f"{verb} {self.counts.rejected:,} rejected row(s) to {self.rejects_path}")
        lines.extend(self._assignment_lines())
        if self.complete:
            lines.append(
                f"open balance ${self.open_balance:,.2f}, "
                f"past due ${self.past_due_balance:,.2f}"
            )
        return lines

    def _head(self) -> str:
        if self.dry_run and self.complete:
            return "dry run, nothing changed; the import would give"
        if self.dry_run:
            return "dry run: the import would be refused (fix the rows above or use --skip-invalid)"
        if self.committed:
            return "imported"
        return "nothing imported (fix the rows above or use --skip-invalid)"

    def _ledger_lines(self) -> list[str]:
        """Customers, payments and credit the import wrote beside the rows themselves."""
        lines: list[str] = []
        if self.customers_created:
            lines.append(f"customers created from invoices: {self.customers_created:,}")
        if self.payments_recorded:
            lines.append(f"payments recorded: {self.payments_recorded:,}")
        if self.invoices_settled:
            lines.append(f"invoices settled: {self.invoices_settled:,}")
        if self.unapplied:
            lines.append(
                f"warning: ${self.unapplied:,.2f} of payments is more than the open invoices it "
                f"could settle; kept as unapplied credit on {self.credit_customers:,} "
                "customer(s) (see collectbot report)"
            )
        if self.credit_applied:
            lines.append(f"customers' unapplied credit applied to invoices: "
                         f"${self.credit_applied:,.2f}")
        if self.payments_reversed:
            lines.append(f"payments reversed (--reverse-payments): {self.payments_reversed:,}, "
                         f"${self.reversed_amount:,.2f}")
        return lines

    def _kept_payment_lines(self) -> list[str]:
        """Invoices whose export showed less paid than the ledger: the ledger's figure kept."""
        if not self.kept_payments_count:
            return []
        lines = [
            f"warning: {self.kept_payments_count:,} invoice(s) show less paid than the "
            "payments the ledger records; the ledger's figure is kept (to record a "
            "reversal such as a bounced cheque, import again with --reverse-payments):"
        ]
        lines.extend(f"  invoice {number}: export {export:,.2f} paid, ledger {ledger:,.2f}"
                     for number, export, ledger in self.kept_payments[:LISTED_ERRORS])
        if self.kept_payments_count > LISTED_ERRORS:
            lines.append(f"  ... and {self.kept_payments_count - LISTED_ERRORS:,} more")
        return lines
