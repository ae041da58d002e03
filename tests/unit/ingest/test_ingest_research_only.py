"""Research only (invariant 9): the package never references private, order or withdrawal calls."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import ccxt

from crypto_analyzer.ingest.providers.ccxt_exchange import PUBLIC_METHODS

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "crypto_analyzer"
FORBIDDEN = re.compile(
    r"(?i)(private|order|withdraw|deposit|balance|transfer|position|leverage|margin|borrow|"
    r"repay|ledger|my_?trades|sign_?in|convert|trade_?fee|account)"
)


def _identifiers(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.isidentifier()  # getattr(exchange, "name") and the like, not prose
        ):
            found.add(node.value)
    return found


def _ccxt_methods() -> set[str]:
    """Every callable on a Coinbase and a Kraken instance, including generated endpoint methods."""
    names: set[str] = set()
    for exchange_id in ("coinbase", "kraken"):
        exchange = getattr(ccxt, exchange_id)()
        names |= {name for name in dir(exchange) if callable(getattr(exchange, name, None))}
    return names


def _exchange_attributes(path: Path) -> set[str]:
    """Attributes read from the wrapped exchange object (``self._exchange.X``, ``exchange.X``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute):
            owner = node.value
            if (isinstance(owner, ast.Attribute) and owner.attr == "_exchange") or (
                isinstance(owner, ast.Name) and owner.id == "exchange"
            ):
                found.add(node.attr)
    return found


def test_no_private_order_or_withdrawal_method_is_referenced_anywhere() -> None:
    forbidden = {name for name in _ccxt_methods() if FORBIDDEN.search(name)}
    assert {"create_order", "withdraw", "fetch_balance", "privatePostAddOrder"} <= forbidden
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_identifiers(path) & forbidden)
        for path in PACKAGE.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_ccxt_adapter_calls_only_public_market_data_methods() -> None:
    used = _exchange_attributes(PACKAGE / "ingest" / "providers" / "ccxt_exchange.py")
    data = {"has", "timeframes", "rateLimit", "apiKey", "secret", "urls", "last_status",
            "last_response_headers", "session"}  # fmt: skip
    assert used - data <= PUBLIC_METHODS, sorted(used - data - PUBLIC_METHODS)
    assert used & _ccxt_methods() <= PUBLIC_METHODS
    assert not any(FORBIDDEN.search(name) for name in PUBLIC_METHODS)
