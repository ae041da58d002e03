"""Example statistical procedures for crypto-analyzer, discovered through an entry point."""

from __future__ import annotations

from ca_example_procedures.sign_flip import SignFlipParams, SignFlipTest

__all__ = ["SignFlipParams", "SignFlipTest"]
