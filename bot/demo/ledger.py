"""A synthetic accounts-receivable ledger in the canonical import formats, the same for a seed.

The story it tells: most customers pay on or near the due date; a slow group pays weeks late; a
late group pays months late and now and then forgets an invoice for good; a few customers went
quiet some months ago and stopped paying (half of them are on credit hold, so billing stopped
too). A few invoices are disputed; some late invoices carry a partial payment; last week a few
customers paid round amounts on account. So every aging bucket has money in it, 120+ the least.

invoices.csv is the billing system's export: what it settled (settled_date, amount_paid) and
what is open. payments.csv is the cash system's record of money it did not match to a whole
invoice: partial payments against an invoice, dated when received, and payments on account.
"""

from __future__ import annotations

import csv
import enum
import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

HISTORY_DAYS = 548  # 18 months of invoices
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_CUSTOMERS = 5000  # the name lists give this many distinct company names, with room

MANAGER_ID = "U0DEMOMAYA"
HEAD_ID = "U0DEMODANA"  # Maya's manager: what Maya leaves undecided goes up to her
# slack_user_id, name, email, role, manager, timezone, daily_call_target, morning_time, backup
TEAM: tuple[tuple[str, ...], ...] = (
    (HEAD_ID, "Dana Reyes", "dana.reyes@collectbot.example", "head", "", "America/Chicago", "",
     "", ""),
    (MANAGER_ID, "Maya Okafor", "maya.okafor@collectbot.example", "manager", HEAD_ID,
     "America/New_York", "", "", ""),
    ("U0DEMOANA", "Ana Torres", "ana.torres@collectbot.example", "collector", MANAGER_ID,
     "America/New_York", "20", "08:30", "U0DEMOBEN"),
    ("U0DEMOBEN", "Ben Whitaker", "ben.whitaker@collectbot.example", "collector", MANAGER_ID,
     "America/New_York", "18", "08:30", "U0DEMOCHLOE"),
    ("U0DEMOCHLOE", "Chloe Park", "chloe.park@collectbot.example", "collector", MANAGER_ID,
     "America/Los_Angeles", "22", "08:00", "U0DEMOANA"),
)
TEAM_HEADER = ("slack_user_id", "name", "email", "role", "manager", "timezone",
               "daily_call_target", "morning_time", "backup")
CUSTOMER_HEADER = ("external_ref", "name", "contact_name", "phone", "email", "tier", "status")
INVOICE_HEADER = ("number", "customer_ref", "issue_date", "due_date", "amount", "amount_paid",
                  "currency", "settled_date", "disputed")
PAYMENT_HEADER = ("external_ref", "customer_ref", "invoice_number", "amount", "paid_on",
                  "method")

NAME_FIRST = (
    "Harbor", "Summit", "Cedar", "Blue Ridge", "Ironwood", "Lakeside", "Granite", "Northwind",
    "Riverbend", "Oakmont", "Silverline", "Keystone", "Prairie", "Redstone", "Maple", "Beacon",
    "Pinecrest", "Coastal", "Evergreen", "Highland", "Brightwater", "Copperfield", "Meridian",
    "Westgate", "Stonebridge", "Falcon", "Sterling", "Juniper", "Atlas", "Union", "Birchwood",
    "Clearview", "Foxhollow", "Golden Gate", "Hillcrest", "Lighthouse",
)
NAME_TRADE = (
    "Logistics", "Dental Group", "Builders", "Foods", "Machine Works", "Auto Parts",
    "Medical Supply", "Landscaping", "Electric", "Printing", "Plumbing", "Freight", "Hardware",
    "Bakery", "Veterinary Clinic", "Coffee Roasters", "Fabrication", "Staffing", "Roofing",
    "Packaging", "Florists", "Brewing", "Cabinetry", "HVAC Services", "Office Furniture",
)
NAME_FORM = ("Inc.", "LLC", "Co.", "Corp.", "& Sons", "Ltd.", "Group", "")
CONTACT_FIRST = (
    "James", "Maria", "Robert", "Linda", "David", "Patricia", "Michael", "Jennifer", "Daniel",
    "Aisha", "Kevin", "Sofia", "Thomas", "Priya", "Carlos", "Emily", "Marcus", "Hannah", "Luis",
    "Grace", "Andre", "Olivia", "Samuel", "Fatima", "Ethan", "Rosa", "Nathan", "Mei", "Victor",
    "Claire",
)
CONTACT_LAST = (
    "Smith", "Garcia", "Johnson", "Nguyen", "Brown", "Martinez", "Davis", "Lopez", "Miller",
    "Wilson", "Anderson", "Thomas", "Hernandez", "Moore", "Jackson", "Kim", "Patel", "Lee",
    "Walker", "Hall", "Young", "Allen", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
    "Carter", "Reyes",
)
AREA_CODES = ("212", "312", "415", "617", "713", "305", "206", "404", "602", "503", "720", "615")
METHODS = ("ach", "ach", "check", "wire", "card")


class Payer(enum.Enum):
    """How a customer pays; decides each invoice's fate."""

    PROMPT = "prompt"  # on or near the due date
    SLOW = "slow"  # weeks late
    LATE = "late"  # months late, now and then never
    QUIET = "quiet"  # paid until a stop date some months ago, nothing since


@dataclass(frozen=True, slots=True)
class DemoFiles:
    """The four CSV files of a demo ledger and how many rows each has."""

    team: Path
    customers: Path
    invoices: Path
    payments: Path
    rows: dict[str, int] = field(default_factory=dict)

    def in_import_order(self) -> list[tuple[str, Path]]:
        """(kind, path) in the order an import needs them: team first, payments last."""
        return [("team", self.team), ("customers", self.customers),
                ("invoices", self.invoices), ("payments", self.payments)]


@dataclass(slots=True)
class _Customer:
    ref: str
    name: str
    contact_name: str
    phone: str
    email: str
    tier: str
    status: str
    payer: Payer
    typical_cents: int  # a typical invoice of theirs
    weight: float  # how often they are billed
    terms: int  # days from issue to due
    first_day: date  # first day billed in the window
    last_day: date  # last day billed
    stop: date | None = None  # QUIET: paid nothing from this day


@dataclass(slots=True)
class _Invoice:
    customer: _Customer
    issue_date: date
    due_date: date
    amount: Decimal
    settled_date: date | None
    disputed: bool
    number: str = ""
    paid: Decimal = ZERO  # by payments.csv


@dataclass(frozen=True, slots=True)
class _Payment:
    customer_ref: str
    invoice_number: str
    amount: Decimal
    paid_on: date
    method: str


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2).quantize(CENT)


def _company_names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct company names: a place-like word, a trade, a legal form."""
    pairs = list(itertools.product(NAME_FIRST, NAME_TRADE))
    rng.shuffle(pairs)
    names: list[str] = []
    seen: set[str] = set()
    for first, trade in itertools.cycle(pairs):
        if len(names) == count:
            return names
        form = rng.choice(NAME_FORM)
        name = f"{first} {trade} {form}".strip()
        if name not in seen:
            seen.add(name)
            names.append(name)
    raise AssertionError("unreachable: cycle() never ends")


def _payers(rng: random.Random, tiers: Sequence[str]) -> list[Payer]:
    """A payer per customer: key accounts are prompt or slow; the tail is among the others."""
    others = [i for i, tier in enumerate(tiers) if tier != "key"]
    quiet = max(2, round(len(tiers) * 0.04))
    late = max(2, round(len(tiers) * 0.12))
    slow = round(len(tiers) * 0.28)
    pool = [Payer.QUIET] * quiet + [Payer.LATE] * late
    pool += [Payer.SLOW] * max(0, min(slow, len(others) - len(pool)))
    pool += [Payer.PROMPT] * (len(others) - len(pool))
    rng.shuffle(pool)
    payers = [Payer.PROMPT if rng.random() < 0.7 else Payer.SLOW for _ in tiers]
    for index, payer in zip(others, pool, strict=True):
        payers[index] = payer
    return payers


def _customers(rng: random.Random, count: int, today: date) -> list[_Customer]:
    window_start = today - timedelta(days=HISTORY_DAYS)
    names = _company_names(rng, count)
    tiers = [rng.choices(("key", "standard", "small"), weights=(10, 60, 30))[0]
             for _ in range(count)]
    payers = _payers(rng, tiers)
    customers: list[_Customer] = []
    quiet_seen = 0
    for index, (name, tier, payer) in enumerate(zip(names, tiers, payers, strict=True)):
        first, last = rng.choice(CONTACT_FIRST), rng.choice(CONTACT_LAST)
        domain = "".join(ch for ch in name.split(" ")[0].lower() if ch.isalpha())
        typical = {"key": 700_000, "standard": 200_000, "small": 40_000}[tier]
        terms = {"key": rng.choice((45, 60)), "standard": rng.choice((30, 30, 30, 15, 45)),
                 "small": rng.choice((15, 30))}[tier]
        # Most accounts predate the window; a fifth were opened during it.
        opened = (window_start if rng.random() < 0.8 or payer is Payer.QUIET
                  else window_start + timedelta(days=rng.randint(0, HISTORY_DAYS - 90)))
        customer = _Customer(
            ref=f"C-{1001 + index}", name=name, contact_name=f"{first} {last}",
            phone=f"({rng.choice(AREA_CODES)}) 555-01{rng.randint(0, 99):02d}",
            email=f"{first}.{last}@{domain}.example".lower(), tier=tier, status="active",
            payer=payer, typical_cents=round(typical * rng.lognormvariate(0, 0.5)),
            weight={"key": 3.0, "standard": 1.2, "small": 0.7}[tier] * rng.lognormvariate(0, 0.3),
            terms=terms, first_day=opened, last_day=today,
        )
        if payer is Payer.QUIET:
            customer.stop = today - timedelta(days=rng.randint(125, 165))
            quiet_seen += 1
            if quiet_seen % 2 == 0:
                # Credit hold: billing stopped six weeks after the payments did.
                customer.status = "on_hold"
                customer.last_day = customer.stop + timedelta(days=42)
        customers.append(customer)
    return customers


def _shares(weights: Sequence[float], total: int) -> list[int]:
    """Split `total` in proportion to `weights`, largest remainders first; sums to `total`."""
    whole = sum(weights)
    exact = [w / whole * total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _pay_date(rng: random.Random, customer: _Customer, issue: date, due: date) -> date | None:
    """When the invoice gets paid in full (maybe after today), or None: never."""
    payer = customer.payer
    if payer is Payer.PROMPT:
        delay = rng.triangular(-10, 10, 1)
    elif payer is Payer.LATE:
        if rng.random() < 0.01:
            return None
        delay = rng.triangular(15, 130, 45)
    else:
        delay = rng.triangular(0, 60, 18)
    paid = max(issue, due + timedelta(days=round(delay)))
    if customer.stop is not None and paid >= customer.stop:
        return None
    return paid


def _invoices(rng: random.Random, customers: Sequence[_Customer], total: int,
              today: date) -> list[_Invoice]:
    spans = [max((c.last_day - c.first_day).days, 1) for c in customers]
    counts = _shares([c.weight * span for c, span in zip(customers, spans, strict=True)], total)
    invoices: list[_Invoice] = []
    for customer, span, count in zip(customers, spans, counts, strict=True):
        for k in range(count):
            # Recurring billing: evenly through the account's span, a few days' jitter.
            issue = customer.first_day + timedelta(days=int((k + rng.random()) * span / count))
            issue = min(issue, today)
            due = issue + timedelta(days=customer.terms)
            amount = _cents(max(2_500, round(customer.typical_cents
                                             * rng.lognormvariate(0, 0.45))))
            days_past_due = (today - due).days
            disputed = (customer.payer is not Payer.QUIET and 10 <= days_past_due <= 100
                        and rng.random() < 0.05)
            paid = None if disputed else _pay_date(rng, customer, issue, due)
            settled = paid if paid is not None and paid <= today else None
            invoices.append(_Invoice(customer, issue, due, amount, settled, disputed))
    invoices.sort(key=lambda inv: (inv.issue_date, inv.customer.ref))
    for number, invoice in enumerate(invoices, start=100_001):
        invoice.number = f"INV-{number}"
    return invoices


def _payments(rng: random.Random, invoices: Sequence[_Invoice],
              today: date) -> list[_Payment]:
    """Partial payments on late invoices, then round payments on account last week."""
    payments: list[_Payment] = []
    for invoice in invoices:
        late = (today - invoice.due_date).days
        if (invoice.settled_date is None and not invoice.disputed and late > 12
                and invoice.customer.payer in (Payer.SLOW, Payer.LATE) and rng.random() < 0.2):
            share = rng.uniform(0.2, 0.6)
            amount = (invoice.amount * Decimal(str(round(share, 2)))).quantize(Decimal("1"))
            if 0 < amount < invoice.amount:
                invoice.paid = amount.quantize(CENT)
                # At least ten days ago: before every payment on account, which go to the
                # oldest open invoices and must find these balances already reduced.
                paid_on = invoice.due_date + timedelta(days=rng.randint(1, late - 10))
                payments.append(_Payment(invoice.customer.ref, invoice.number, invoice.paid,
                                         paid_on, rng.choice(METHODS)))
    open_balance: dict[str, Decimal] = {}
    customers: dict[str, _Customer] = {}
    for invoice in invoices:
        if invoice.settled_date is None and invoice.due_date < today:
            ref = invoice.customer.ref
            open_balance[ref] = open_balance.get(ref, ZERO) + invoice.amount - invoice.paid
            customers[ref] = invoice.customer
    for ref in sorted(open_balance):
        if customers[ref].payer not in (Payer.SLOW, Payer.LATE) or rng.random() > 0.3:
            continue
        # A round sum, less than what is past due, so all of it applies.
        hundreds = int(open_balance[ref] * Decimal(str(round(rng.uniform(0.3, 0.9), 2))) / 100)
        if hundreds < 1:
            continue
        payments.append(_Payment(ref, "", Decimal(hundreds * 100).quantize(CENT),
                                 today - timedelta(days=rng.randint(0, 9)), rng.choice(METHODS)))
    payments.sort(key=lambda p: (p.paid_on, p.customer_ref, p.invoice_number))
    return payments


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def generate_demo_ledger(
    out_dir: Path, *, today: date, seed: int = 7, customers: int = 300, invoices: int = 4000
) -> DemoFiles:
    """Write team.csv, customers.csv, invoices.csv and payments.csv into `out_dir`."""
    if not 3 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be 3-{MAX_CUSTOMERS}, not {customers}")
    if invoices < customers:
        raise ValueError(f"invoices ({invoices}) must be at least customers ({customers})")
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    ledger_customers = _customers(rng, customers, today)
    ledger_invoices = _invoices(rng, ledger_customers, invoices, today)
    ledger_payments = _payments(rng, ledger_invoices, today)

    files = DemoFiles(team=out_dir / "team.csv", customers=out_dir / "customers.csv",
                      invoices=out_dir / "invoices.csv", payments=out_dir / "payments.csv")
    files.rows["team"] = _write(files.team, TEAM_HEADER, TEAM)
    files.rows["customers"] = _write(files.customers, CUSTOMER_HEADER, (
        (c.ref, c.name, c.contact_name, c.phone, c.email, c.tier, c.status)
        for c in ledger_customers
    ))
    files.rows["invoices"] = _write(files.invoices, INVOICE_HEADER, (
        (i.number, i.customer.ref, i.issue_date.isoformat(), i.due_date.isoformat(),
         f"{i.amount:.2f}", f"{i.amount if i.settled_date else ZERO:.2f}", "USD",
         i.settled_date.isoformat() if i.settled_date else "", "yes" if i.disputed else "no")
        for i in ledger_invoices
    ))
    files.rows["payments"] = _write(files.payments, PAYMENT_HEADER, (
        (f"PAY-{300_001 + n}", p.customer_ref, p.invoice_number, f"{p.amount:.2f}",
         p.paid_on.isoformat(), p.method)
        for n, p in enumerate(ledger_payments)
    ))
    return files
