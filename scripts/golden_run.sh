#!/usr/bin/env bash
# Golden acceptance run: the whole governed path on a fresh workspace, through the CLI only.
#
#   fresh governed DB → principals (an admin, alice the researcher, bob the reviewer; each acts
#   through its token in CRYPTO_ANALYZER_TOKEN) → synthetic data (one planted signal) → report
#   → candidate → evaluate to candidate (alice) → alice cannot accept, nor pose as someone else,
#   nor register a look-alike → evaluate to accepted (bob) → events carry the real time although
#   the clock is pinned → audit trace → audit verify OK → every direct-SQL bypass attempt fails
#   → a noise signal is denied with reasons → a rerun of the planted hypothesis alone is counted
#   against every trial so far → one restated bar (a corrected import) makes the accepted result
#   stale: `audit stale` and `audit verify` report it, and its dataset id stays reproducible.
#
# Exits non-zero at the first step that does not behave. `make test` runs it; its output is
# recorded in docs/golden_run.md.
set -euo pipefail
cd "$(dirname "$0")/.."
CA=${CA:-.venv/bin/crypto-analyzer}
PY=${PY:-.venv/bin/python}
work=$(mktemp -d "${TMPDIR:-/tmp}/crypto-analyzer-golden.XXXXXX")
trap 'rm -rf "$work"' EXIT

export CRYPTO_ANALYZER_DB_URL="sqlite:///$work/golden.sqlite"
export CRYPTO_ANALYZER_ARTIFACTS="file://$work/artifacts"
export CRYPTO_ANALYZER_FIXED_TIME="2025-01-01T00:00:00Z"
step() { printf '\n== %s\n' "$*"; }
json_field() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# as TOKEN CMD…: run the CLI as the principal holding TOKEN (environment only, never a flag)
as() { local token=$1; shift; CRYPTO_ANALYZER_TOKEN="$token" $CA "$@"; }
# expect CODE CMD…: the command must exit with CODE (a refusal the run relies on)
expect() {
  local code=$1 rc=0; shift
  "$@" || rc=$?
  [ "$rc" -eq "$code" ] || { echo "expected exit $code, got $rc: $*"; exit 1; }
  echo "refused as expected (exit $rc)"
}

step "1. fresh governed database"
$CA init

step "1b. principals: an admin first, then alice (researcher) and bob (reviewer)"
ops=$($CA principals add ops --role admin)
alice=$(as "$ops" principals add alice --role researcher)
bob=$(as "$ops" principals add bob --role reviewer)
$CA principals list

step "2. synthetic market with a planted signal, through the ingest path"
$CA ingest synthetic --assets 20 --days 150 --seed 7 --planted-ic 0.1

step "3. research report"
cat > "$work/report.toml" <<'TOML'
signals = ["volume_shock", "momentum_24h", "low_vol"]
horizons = [1, 4]
factor_window = 240
[splits]
test_size = 480
min_train_size = 960
embargo = 4
[portfolio]
k = 4
target_capital = 10000.0
capital_grid = [5000.0, 10000.0, 50000.0]
[costs]
fee_bps = 2.0
half_spread_bps = 1.0
impact_coef = 0.01
[procedures]
bootstrap_reps = 500
pbo_blocks = 8
TOML
run=$($CA report --config "$work/report.toml" --actor alice --json | json_field 'd["run_instance_id"]')
echo "run $run"
$CA runs show "$run"

step "4. candidate for the planted signal (alice)"
cid=$(as "$alice" promotion create --run "$run" --signal volume_shock --horizon 1 --json \
  | json_field 'd["candidate_id"]')
echo "candidate $cid"

step "5. evaluate to candidate (alice)"
as "$alice" promotion evaluate "$cid" --to candidate

step "5b. alice cannot accept, claim to be bob, or register a look-alike of herself"
expect 1 as "$alice" promotion evaluate "$cid" --to accepted
expect 2 as "$alice" promotion evaluate "$cid" --to accepted --actor bob
expect 2 env CRYPTO_ANALYZER_TOKEN= $CA promotion evaluate "$cid" --to accepted
expect 2 as "invalid-token" promotion evaluate "$cid" --to accepted
for twin in ALICE "$(printf '\xd0\xb0lice')" "$(printf 'alice\xe2\x80\x8b')" a1ice; do
  expect 2 as "$ops" principals add "$twin" --role reviewer
done

step "6. evaluate to accepted (bob, a second principal)"
as "$bob" promotion evaluate "$cid" --to accepted
status=$($CA promotion show "$cid" --json | json_field 'd["candidate"]["status"] if "candidate" in d else d["status"]')
[ "$status" = "accepted" ] || { echo "expected accepted, got $status"; exit 1; }

step "6b. governed events carry the real time, although CRYPTO_ANALYZER_FIXED_TIME is pinned"
$CA promotion show "$cid" --json | "$PY" -c '
import json, re, sys
from datetime import datetime, timezone
events = json.load(sys.stdin)["events"]
for event in events:
    stamp = event["created_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp), stamp
    when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 3600, stamp
    assert event["payload"]["workspace_mode"] == "governed", event
    assert event["payload"]["actor_source"] == "token", event
print("events by", ", ".join(event["actor"] for event in events), "- real time, governed, tokens")
'

step "7. audit trace (database only)"
$CA audit trace "$cid"

step "8. audit verify"
$CA audit verify

step "9. direct-SQL bypass attempts (each must be refused by the database)"
"$PY" - "$work/golden.sqlite" "$cid" <<'PYEOF'
import sqlite3, sys
path, cid = sys.argv[1], sys.argv[2]
attempts = {
    "demote accepted to exploratory": f"UPDATE promotion_candidates SET status='exploratory' WHERE candidate_id='{cid}'",
    "accepted with a lower-case status": f"UPDATE promotion_candidates SET status='ACCEPTED' WHERE candidate_id='{cid}'",
    "delete a candidate": f"DELETE FROM promotion_candidates WHERE candidate_id='{cid}'",
    "edit an eligibility report": "UPDATE eligibility_reports SET passed = 1",
    "delete an eligibility report": "DELETE FROM eligibility_reports",
    "edit a governance event": "UPDATE governance_events SET actor = 'mallory'",
    "delete a governance event": "DELETE FROM governance_events",
    "edit lineage": "UPDATE artifact_lineage SET uri = 'file:///elsewhere'",
    "delete lineage edges": "DELETE FROM artifact_edges",
    "turn the governed workspace into a sandbox": "UPDATE tenants SET mode = 'sandbox'",
    "delete the tenant row (to re-create it as a sandbox)": "DELETE FROM tenants",
    "insert a candidate directly as accepted": (
        "INSERT INTO promotion_candidates (candidate_id, run_instance_id, run_key, dataset_id, "
        "signal, horizon, status, evidence_digest, created_by, created_at, updated_at) "
        "SELECT 'forged', run_instance_id, run_key, dataset_id, 'forged', 1, 'accepted', "
        "evidence_digest, 'mallory', 't', 't' FROM promotion_candidates LIMIT 1"
    ),
    "flip an eligibility report by REPLACE": (
        "REPLACE INTO eligibility_reports SELECT tenant_id, report_id, candidate_id, level, "
        "1 - passed, evidence_digest, policy_id, policy_digest, reasons_json, warnings_json, "
        "actor, created_at FROM eligibility_reports"
    ),
    "replace the accepted candidate as exploratory": (
        "INSERT OR REPLACE INTO promotion_candidates SELECT tenant_id, candidate_id, "
        "run_instance_id, run_key, dataset_id, signal, horizon, 'exploratory', evidence_digest, "
        "NULL, NULL, created_by, created_at, updated_at FROM promotion_candidates "
        f"WHERE candidate_id='{cid}'"
    ),
    "replace a lineage row": "REPLACE INTO artifact_lineage SELECT * FROM artifact_lineage LIMIT 1",
    "upsert a governance event": (
        "INSERT INTO governance_events SELECT * FROM governance_events WHERE seq = 0 "
        "ON CONFLICT (tenant_id, event_id) DO UPDATE SET actor = 'mallory'"
    ),
}
connection = sqlite3.connect(path)
failed = False
for name, sql in attempts.items():
    try:
        connection.execute(sql)
        connection.commit()
    except sqlite3.DatabaseError as exc:
        print(f"refused  {name}: {exc}")
        connection.rollback()
    else:
        print(f"ALLOWED  {name}")
        failed = True
sys.exit(1 if failed else 0)
PYEOF

step "10. a noise signal is denied with reasons"
noise=$(as "$alice" promotion create --run "$run" --signal momentum_24h --horizon 1 --json \
  | json_field 'd["candidate_id"]')
expect 1 as "$alice" promotion evaluate "$noise" --to candidate

step "11. audit verify after the bypass attempts"
$CA audit verify

step "12. the research history: a rerun of the planted hypothesis alone is judged against every trial"
rerun=$(as "$alice" report --config "$work/report.toml" --signals volume_shock --horizons 1 --json \
  | json_field 'd["summary"]["research_history"]["headline"]')
echo "rerun: $rerun"
case "$rerun" in "trials in scope: 7 (this run: 1)") ;; *) echo "unexpected: $rerun"; exit 1;; esac

step "13. a restated bar: the accepted result is reported stale, its dataset stays reproducible"
"$PY" - "$work/golden.sqlite" "$work/restated.csv" <<'PYEOF'
import csv, sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT instrument_id, bar_open_ms, open, high, low, close, volume FROM bars "
    "WHERE freq = '1h' ORDER BY instrument_id, bar_open_ms LIMIT 1 OFFSET 1000").fetchone()
instrument, ms, open_, high, low, close, volume = row
close = close * 1.01
with open(sys.argv[2], "w", newline="") as handle:
    out = csv.writer(handle)
    out.writerow(["bar_open_ms", "open", "high", "low", "close", "volume"])
    out.writerow([ms, open_, max(high, close), low, close, volume])
print(instrument.split(":", 1)[1], file=open(sys.argv[2] + ".symbol", "w"))
PYEOF
symbol=$(cat "$work/restated.csv.symbol")
as "$alice" ingest import "$work/restated.csv" --venue synthetic --symbol "$symbol" --freq 1h \
  --time-unit ms
expect 1 $CA audit stale
$CA check-dataset --as-of "$run"
expect 1 $CA audit verify
echo
echo "golden run: OK"
