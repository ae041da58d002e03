"""A run summary as CI systems read it: JUnit XML (one test case per rule per candidate) and
Markdown for a job summary page.

JUnit is the one report format every CI system renders; mapping *candidate → test suite* and
*policy rule → test case* lets a reviewer see exactly which rule denied, in the CI's own UI. A
denial is a ``<failure>`` whose message is the policy's reason; warnings go to ``<system-out>``.
A candidate that was never evaluated is one skipped case, so it cannot pass silently.
XML is built with ``xml.etree`` (escaping is the library's job), Markdown table cells are escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from crypto_analyzer.pipeline.ci.summary import CandidateOutcome, RunSummary

__all__ = ["junit_xml", "markdown_summary"]


def _suite_name(candidate: CandidateOutcome) -> str:
    level = candidate.level or "not evaluated"
    return f"{candidate.candidate_id} ({candidate.signal}@{candidate.horizon}, {level})"


def junit_xml(summary: RunSummary) -> bytes:
    """JUnit XML bytes (UTF-8, with declaration)."""
    root = ET.Element("testsuites", name=f"crypto-analyzer run {summary.run_instance_id}")
    total = failures = skipped = 0
    for candidate in summary.candidates:
        suite = ET.SubElement(root, "testsuite", name=_suite_name(candidate))
        cases = failed = skips = 0
        classname = f"crypto_analyzer.policy.{candidate.candidate_id}"
        if candidate.report_id is None:
            case = ET.SubElement(suite, "testcase", classname=classname, name="evaluation")
            ET.SubElement(case, "skipped", message="the candidate has not been evaluated")
            cases, skips = 1, 1
        for rule in candidate.rules:
            case = ET.SubElement(suite, "testcase", classname=classname, name=rule.rule)
            cases += 1
            if not rule.passed:
                failed += 1
                failure = ET.SubElement(
                    case, "failure", message=rule.reasons[0] if rule.reasons else "denied"
                )
                failure.text = "\n".join(rule.reasons)
            if rule.warnings:
                ET.SubElement(case, "system-out").text = "\n".join(rule.warnings)
        suite.set("tests", str(cases))
        suite.set("failures", str(failed))
        suite.set("errors", "0")
        suite.set("skipped", str(skips))
        total, failures, skipped = total + cases, failures + failed, skipped + skips
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", str(skipped))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_summary(summary: RunSummary) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY`` (or any CI job summary)."""
    verdict = "denied" if summary.denied else "no denials"
    lines = [
        f"## crypto-analyzer run `{summary.run_instance_id}` — {verdict}",
        "",
        f"- run key `{summary.run_key[:16]}…`, dataset `{summary.dataset_id[:24]}…`, "
        f"status {summary.status}, tenant `{summary.tenant_id}`",
        "",
    ]
    if not summary.candidates:
        lines.append("No promotion candidates were made from this run.")
    else:
        lines += [
            "| candidate | signal | horizon | level | decision | failed rules |",
            "|---|---|---|---|---|---|",
        ]
        for item in summary.candidates:
            decision = {None: "not evaluated", True: "passed", False: "**denied**"}[item.passed]
            failed = ", ".join(rule.rule for rule in item.rules if not rule.passed) or "—"
            lines.append(
                f"| `{_cell(item.candidate_id)}` | {_cell(item.signal)} | {item.horizon} | "
                f"{_cell(item.level or '—')} | {decision} | {_cell(failed)} |"
            )
        reasons = [
            (item.candidate_id, rule.rule, reason)
            for item in summary.candidates
            for rule in item.rules
            for reason in rule.reasons
        ]
        if reasons:
            lines += ["", "### Reasons", ""]
            lines += [f"- `{_cell(c)}` {_cell(r)}: {_cell(m)}" for c, r, m in reasons]
    if summary.envelopes:
        lines += ["", "### Envelopes", "", "| envelope | signed | key |", "|---|---|---|"]
        for envelope in summary.envelopes:
            signed = "yes" if envelope.signed else ("unreadable" if not envelope.readable else "no")
            keys = ", ".join(f"`{key[:16]}…`" for key in envelope.key_ids) or "—"
            lines.append(f"| `{_cell(envelope.name)}` | {signed} | {keys} |")
    return "\n".join(lines) + "\n"
