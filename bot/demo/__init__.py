"""`collectbot demo`: a synthetic ledger imported through the real import code, then the routine."""

from bot.demo.ledger import DemoFiles, generate_demo_ledger
from bot.demo.run import run_demo
from bot.demo.steps import DemoError, DemoResult

__all__ = ["DemoError", "DemoFiles", "DemoResult", "generate_demo_ledger", "run_demo"]
