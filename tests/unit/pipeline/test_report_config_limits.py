"""Every report-config value that scales memory or time is bounded before any work starts.

Each violation is a :class:`ConfigError` whose one line names the key, the value (shortened) and
the limit; the defaults and the documented example stay valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crypto_analyzer.core.errors import ConfigError
from crypto_analyzer.pipeline.report import limits
from crypto_analyzer.pipeline.report.config import ReportConfig, load_report_config

TOO_MANY_SIGNALS = [f"s{i}" for i in range(limits.MAX_SIGNALS + 1)]

# (override key, hostile value, fragments the message must contain)
CASES: list[tuple[str, Any, tuple[str, ...]]] = [
    ("procedures.bootstrap_reps", 10**9, ("1000000000", f"{limits.MAX_BOOTSTRAP_REPS}")),
    ("procedures.block_length", 1e9, ("1000000000", f"{limits.MAX_BLOCK_LENGTH}")),
    ("procedures.pbo_blocks", 1000, ("1000", f"{limits.MAX_PBO_BLOCKS}")),
    ("procedures.pbo_blocks", 9, ("9", "even")),
    ("horizons", list(range(1, 1002)), ("1,001 items", f"{limits.MAX_HORIZONS}")),
    ("horizons", [1, 10**9], ("1000000000", f"{limits.MAX_BARS}")),
    ("signals", TOO_MANY_SIGNALS, ("items", f"{limits.MAX_SIGNALS}")),
    ("signals", ["momentum_24h", "x" * 5000], ("5,000 characters", f"{limits.MAX_NAME_CHARS}")),
    ("signals", ["momentum_24h", "no_such_signal"], ("no_such_signal", "registered")),
    ("signal_params", {"low_vol": {"nope": 3}}, ("nope", "lookback")),
    ("signal_params", {"low_vol": {"lookback": 10**12}}, ("1000000000000", f"{limits.MAX_BARS}")),
    ("splits.test_size", 10**12, ("1000000000000", f"{limits.MAX_BARS}")),
    ("splits.min_train_size", 10**12, ("1000000000000", f"{limits.MAX_BARS}")),
    ("splits.embargo", 10**12, ("1000000000000", f"{limits.MAX_BARS}")),
    ("splits.purge", 10**12, ("1000000000000", f"{limits.MAX_BARS}")),
    ("splits.n_groups", 100, ("100", f"{limits.MAX_CPCV_GROUPS}")),
    ("splits", {"kind": "cpcv", "n_groups": 6, "n_test_groups": 6}, ("n_test_groups", "6")),
    ("portfolio.k", 10**9, ("1000000000", f"{limits.MAX_NAMES_PER_SIDE}")),
    ("portfolio.rebalance_every", 10**12, ("1000000000000", f"{limits.MAX_BARS}")),
    ("portfolio.ema_halflife", 1e12, ("1000000000000", f"{limits.MAX_BARS}")),
    ("portfolio.target_capital", float("inf"), ("inf", "finite")),
    ("portfolio.capital_grid", [1e5 + i for i in range(99)], ("99 items", "32")),
    ("factor_window", 10**12, ("1000000000000", f"{limits.MAX_BARS}")),
    ("factor_lag", 10**12, ("1000000000000", f"{limits.MAX_BARS}")),
    ("min_assets", 10**9, ("1000000000", f"{limits.MAX_MIN_ASSETS}")),
    ("costs.fee_bps", float("nan"), ("nan", "finite")),
    ("hypothesis", "h" * 20_000_000, ("20,000,000 characters", f"{limits.MAX_HYPOTHESIS_CHARS}")),
    ("tags", [f"t{i}" for i in range(1000)], ("1,000 items", f"{limits.MAX_TAGS}")),
    ("tags", ["t" * 1000], ("1,000 characters", f"{limits.MAX_TAG_CHARS}")),
]


@pytest.mark.parametrize(("key", "value", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_each_hostile_value_is_one_clear_error(
    key: str, value: Any, fragments: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_report_config(None, {key: value})
    message = str(caught.value)
    assert message.startswith("report config: "), message
    assert key.split(".")[0] in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert len(message) < 400, message


def test_defaults_and_the_documented_example_stay_valid(tmp_path: Path) -> None:
    config = ReportConfig()
    assert config.procedures.bootstrap_reps <= limits.MAX_BOOTSTRAP_REPS
    docs = Path(__file__).resolve().parents[3] / "docs" / "report.md"
    toml = docs.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    documented = load_report_config(_write(tmp_path / "example.toml", toml))
    assert documented.signals == config.signals


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_largest_allowed_values_are_accepted() -> None:
    config = load_report_config(
        None,
        {
            "procedures.bootstrap_reps": limits.MAX_BOOTSTRAP_REPS,
            "procedures.pbo_blocks": limits.MAX_PBO_BLOCKS,
            "horizons": list(range(1, limits.MAX_HORIZONS + 1)),
            "hypothesis": "h" * limits.MAX_HYPOTHESIS_CHARS,
            "tags": ["t" * limits.MAX_TAG_CHARS] * limits.MAX_TAGS,
            "splits.test_size": limits.MAX_BARS,
        },
    )
    assert config.procedures.bootstrap_reps == limits.MAX_BOOTSTRAP_REPS


def test_file_size_and_nesting_are_checked_before_parsing(tmp_path: Path) -> None:
    big = _write(tmp_path / "big.toml", "hypothesis = '" + "x" * (2 << 20) + "'\n")
    with pytest.raises(ConfigError, match=r"big\.toml is 2,097,168 bytes; the limit is 1,048,576"):
        load_report_config(big)
    deep = _write(tmp_path / "deep.toml", "horizons = " + "[" * 10_000 + "]" * 10_000)
    with pytest.raises(ConfigError, match=r"deep\.toml nests .*deeper than"):
        load_report_config(deep)
    dotted = _write(tmp_path / "dotted.toml", "[signal_params.x" + ".a" * 10_000 + "]\nb = 1\n")
    with pytest.raises(ConfigError, match="nests deeper than"):
        load_report_config(dotted)


def test_a_hostile_key_is_quoted_not_interpreted(tmp_path: Path) -> None:
    path = _write(tmp_path / "keys.toml", '[signal_params."\\u001b[2J[bold]x"]\nlookback = 3\n')
    with pytest.raises(ConfigError) as caught:
        load_report_config(path)
    assert "\\x1b[2J" in str(caught.value)
