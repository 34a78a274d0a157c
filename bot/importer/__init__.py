"""CSV import of customers, invoices, payments and the team roster.

`collectbot import KIND FILE [--map SOURCE=FIELD ...] [--date-format FMT] [--dry-run]
[--skip-invalid [--rejects PATH]] [--no-assign] [--reverse-payments]`,
or `import_file(...)` from code.

Files: UTF-8 with or without BOM; comma, semicolon or tab delimiter (sniffed from the header
line). Header names match fields ignoring case, spaces and punctuation ("Due Date" is
due_date); `--map "Inv #=number"` renames any other column; unknown columns are ignored.
Dates are YYYY-MM-DD unless `--date-format` (e.g. %m/%d/%Y), and plausible
(`bot.domain.ledger_dates`). Amounts are read by `bot.domain.money` ("$1,234.50", "1 234,50 €",
"(100.00)" is -100.00), with one decimal mark per file (the first amount showing one decides,
or `--decimal-comma` / `--decimal-point`). Booleans: yes/no, true/false, y/n, 1/0. Line
numbers are physical file lines (header = 1). Imports into one ledger run one at a time.

Every kind is upserted by its key: importing the same file twice changes nothing the second
time ("unchanged"). An import is all-or-nothing: one bad row and nothing is written (exit 1,
every bad row listed as `line N, column C: what is wrong`); `--skip-invalid` imports the good
rows and writes the bad ones, with an `error` column, to FILE.rejects.csv (or `--rejects`);
`--dry-run` does all the work and rolls it back. After an import, customers without a
collector are given to active collectors, balancing past-due balance (`--no-assign` skips).

| kind | field | required | meaning |
| --- | --- | --- | --- |
| customers | external_ref | yes | the customer's id in your ledger; the key |
| customers | name | yes | customer name |
| customers | contact_name, phone, email | no | who to call (a blank cell clears) |
| customers | tier | no | segment for policy, e.g. standard, key (a blank keeps; new: standard) |
| customers | status | no | active, on_hold, agency, legal, closed (a blank keeps; new: active) |
| customers | collector | no | Slack user id, name or email of a member (blank: keep/assign) |
| invoices | number | yes | invoice number; the key |
| invoices | customer_ref | yes | the customer's external_ref; an unknown one creates the customer |
| invoices | customer_name | no | name for a customer this import creates (default: the ref) |
| invoices | issue_date, due_date | yes | dates; due on or after issue |
| invoices | amount | yes | invoice total, positive |
| invoices | amount_paid | no | paid so far (default 0); a rise is recorded as a payment (below) |
| invoices | currency | no | 3-letter code; must be the ledger's (COLLECTBOT_CURRENCY, default) |
| invoices | settled_date | no | date paid in full (amount_paid defaults to amount) |
| invoices | disputed | no | yes/no, default no |
| invoices | status | no | open, paid or void (paid/open must agree with amount_paid) |
| payments | external_ref | yes | the payment's id; recorded once (a re-import may add method) |
| payments | customer_ref | one of | the customer's external_ref |
| payments | invoice_number | one of | the invoice paid (blank: the oldest open ones) |
| payments | amount | yes | amount received, positive |
| payments | paid_on | yes | date received |
| payments | method | no | ach, check, card, ... |
| payments | currency | no | 3-letter code; must be the ledger's when given |
| team | slack_user_id | yes | Slack user id (U...); the key |
| team | name | yes | display name |
| team | email | no | email address |
| team | role | no | collector, manager, head or admin (default collector) |
| team | manager, backup | no | Slack id of another member, in the file or already imported |
| team | timezone | no | IANA zone (blank: the one Slack reports) |
| team | daily_call_target | no | 1-500 calls a day (default 25); managers and admins may give 0 |
| team | working_days | no | mon-fri, 1,2,3,4,5 or mon,tue,wed (default mon-fri) |
| team | morning_time | no | HH:MM local time of the morning list |
| team | active | no | yes/no (default yes) |

Money (`bot.importer.ledger`; README, "The ledger"): every part of a payment applied to an
invoice is an allocation, and amount_paid is the sum of its invoice's allocations. An invoice
whose amount_paid rises takes the customer's unapplied credit first, then records a payment
"inv:<number>:<amount_paid>" (dated settled_date, else the import day), so re-imports record
nothing twice; reaching the amount settles it. A fall keeps the ledger's figure and is listed in
the summary, unless `--reverse-payments` records a reversal "rev:<number>:<amount_paid>" dated
the import day. A payment applies to its invoice or to the customer's oldest open invoices; what
they cannot take stays as the customer's unapplied credit. Either way, open promises to pay of
those customers become kept / partially kept by `bot.domain.promises`.
"""

from bot.importer.report import CollectorAssignment, ImportReport, KindCounts, RowError
from bot.importer.run import KINDS, import_file
from bot.importer.source import ImportFileError

__all__ = [
    "KINDS",
    "CollectorAssignment",
    "ImportFileError",
    "ImportReport",
    "KindCounts",
    "RowError",
    "import_file",
]
