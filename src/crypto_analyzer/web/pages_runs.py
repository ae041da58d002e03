"""Run pages: the list (filter, sort, paginate), one run's evidence, several runs compared, and the
bytes of any artifact a run recorded.

Reads go through ``db.registry`` (``list_runs``, ``get_run``, ``diff_runs`` — the same functions
as ``crypto-analyzer runs list|show|diff``) and the run's stored artifacts (``web.run_data``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.db.registry import diff_runs, get_run, list_runs, resolve_run_id
from crypto_analyzer.governance import repository as repo
from crypto_analyzer.web.charts import histogram_chart, line_chart
from crypto_analyzer.web.context import SECURITY_HEADERS, WebContext
from crypto_analyzer.web.run_data import ROLLING_WINDOW, RunEvidence, read_artifact
from crypto_analyzer.web.sessions import WebSession

__all__ = ["PAGE_SIZE", "add_run_routes", "family_rows", "ic_decay_chart", "run_charts"]

PAGE_SIZE = 25
LIST_CAP = 5000
"""Newest runs the list page filters and sorts (``list_runs`` pages by recency only)."""
SORTS = {
    "newest": ("started_at", True),
    "oldest": ("started_at", False),
    "status": ("status", False),
    "hypothesis": ("hypothesis", False),
}
_MEDIA = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".png": "image/png",
    ".html": "text/html",
    ".md": "text/markdown",
}


def _time_ticks(series: dict[str, list[tuple[float, float]]]) -> dict[float, str]:
    xs = [x for points in series.values() for x, _ in points]
    if not xs:
        return {}
    low, high = min(xs), max(xs)
    steps = [low + (high - low) * i / 4 for i in range(5)]
    return {x: pd.Timestamp(x, unit="ms", tz="UTC").strftime("%Y-%m-%d") for x in steps}


def ic_decay_chart(evidence: RunEvidence, run_id: str) -> Any:
    """Mean OOS IC by horizon for each signal of the run (``ic/summary.json``)."""
    decay = evidence.ic_decay()
    horizons = sorted({x for points in decay.values() for x, _ in points})
    return line_chart(
        decay,
        title=f"IC decay, run {run_id[:13]}",
        desc="Mean out-of-sample rank IC by label horizon for each signal: "
        + "; ".join(
            f"{s}: " + ", ".join(f"h{x:g} {y:.4f}" for x, y in p) for s, p in decay.items()
        ),
        x_label="horizon (bars)",
        y_label="mean OOS rank IC",
        x_tick_labels={h: f"{h:g}" for h in horizons},
        label="ic-decay",
    )


def run_charts(evidence: RunEvidence, run_id: str) -> dict[str, Any]:
    """The detail page's SVG charts from the run's stored numbers."""
    horizons = sorted({x for points in evidence.ic_decay().values() for x, _ in points})
    charts: dict[str, Any] = {"ic_decay": ic_decay_chart(evidence, run_id)}
    cumulative = evidence.cumulative_returns()
    if cumulative:
        charts["cumulative"] = line_chart(
            cumulative,
            title="Cumulative OOS net returns",
            desc="Cumulative sum of out-of-sample net returns of each hypothesis's long-short "
            "quantile portfolio; final values: "
            + "; ".join(f"{k}: {p[-1][1]:.4f}" for k, p in cumulative.items() if p),
            x_label="time (UTC)",
            y_label="cumulative net return",
            x_tick_labels=_time_ticks(cumulative),
            label="cumulative-returns",
        )
    rolling = evidence.rolling_ic()
    if rolling:
        first = f"@{horizons[0]:g}" if horizons else ""
        shown = {k: v for k, v in rolling.items() if k.endswith(first)} or rolling
        charts["rolling_ic"] = line_chart(
            shown,
            title=f"Rolling OOS IC ({ROLLING_WINDOW} bars)"
            + (f", horizon {first[1:]}" if first else ""),
            desc="Rolling mean of the out-of-sample IC per hypothesis; last values: "
            + "; ".join(f"{k}: {p[-1][1]:.4f}" for k, p in shown.items() if p),
            x_label="time (UTC)",
            y_label="rolling mean IC",
            x_tick_labels=_time_ticks(shown),
            label="rolling-ic",
        )
    capacity = evidence.capacity()
    if capacity:
        charts["capacity"] = line_chart(
            capacity,
            title="Capacity: net Sharpe by capital",
            desc="Annualised net Sharpe at each capital level: "
            + "; ".join(
                f"{k}: " + ", ".join(f"{x:g} → {y:.2f}" for x, y in p) for k, p in capacity.items()
            ),
            x_label="capital",
            y_label="net Sharpe",
            label="capacity",
        )
    family = evidence.family() or {}
    rc = family.get("reality_check") or {}
    if rc.get("null_distribution"):
        charts["rc_null"] = histogram_chart(
            rc["null_distribution"],
            title="White's Reality Check: bootstrap null",
            desc=f"{len(rc['null_distribution'])} bootstrap draws of the maximum statistic under "
            f"the null; observed statistic {rc.get('statistic')}, p = {rc.get('p_value')}",
            x_label="max statistic under the null",
            marker=rc.get("statistic"),
            marker_label="observed statistic",
            label="reality-check",
        )
    return charts


def family_rows(family: dict[str, Any] | None) -> dict[str, Any]:
    """RC, SPA and Romano-Wolf figures as display rows."""
    if not family:
        return {}
    rc, spa, stepm = (family.get(k) or {} for k in ("reality_check", "spa", "stepm"))
    rw = dict(zip(stepm.get("hypothesis_ids", []), stepm.get("adjusted_pvalues", []), strict=False))
    return {
        "rc": rc,
        "spa": spa,
        "rw": rw,
        "rejected": set(stepm.get("rejected") or []),
    }


def _filtered(records: list[Any], status: str, text: str, sort: str) -> list[Any]:
    needle = text.strip().lower()
    chosen = [
        record
        for record in records
        if (not status or record.status == status)
        and (
            not needle
            or needle
            in " ".join(
                [record.run_instance_id, record.dataset_id, record.hypothesis or "", *record.tags]
            ).lower()
        )
    ]
    field, reverse = SORTS[sort]
    return sorted(
        chosen,
        key=lambda record: (getattr(record, field) or "", record.run_instance_id),
        reverse=reverse,
    )


def add_run_routes(router: APIRouter, ctx: WebContext) -> None:
    """Register the run pages on ``router``."""

    @router.get("/runs", summary="Runs list (dashboard page)")
    def runs_page(
        request: Request,
        status: Annotated[str, Query(max_length=32)] = "",
        q: Annotated[str, Query(max_length=200)] = "",
        sort: Annotated[str, Query(max_length=16)] = "newest",
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Response:
        def build(session: WebSession) -> tuple[str, dict[str, Any]]:
            if sort not in SORTS:
                raise ValidationError(f"sort {sort!r} is not one of {', '.join(SORTS)}")
            records = list_runs(ctx.engine, session.tenant_id, LIST_CAP)
            chosen = _filtered(records, status, q, sort)
            pages = max(1, -(-len(chosen) // PAGE_SIZE))
            shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]

            def link(number: int) -> str:
                return "?" + urlencode({"status": status, "q": q, "sort": sort, "page": number})

            return "runs.html", {
                "title": "Runs",
                "runs": shown,
                "total": len(chosen),
                "page": page,
                "pages": pages,
                "status": status,
                "q": q,
                "sort": sort,
                "sorts": list(SORTS),
                "statuses": sorted({record.status for record in records}),
                "prev_link": link(page - 1) if page > 1 else None,
                "next_link": link(page + 1) if page < pages else None,
            }

        return ctx.page(request, build)

    @router.get("/runs/{run_id}", summary="Run detail (dashboard page)")
    def run_page(request: Request, run_id: str) -> Response:
        def build(session: WebSession) -> tuple[str, dict[str, Any]]:
            tenant = session.tenant_id
            record = get_run(ctx.engine, tenant, run_id)
            evidence = RunEvidence(ctx.engine, ctx.store, tenant, record.run_instance_id)
            with ctx.engine.connect() as connection:
                candidates = [
                    item
                    for item in repo.list_candidates(connection, tenant)
                    if item.run_instance_id == record.run_instance_id
                ]
            return "run.html", {
                "title": f"Run {record.run_instance_id[:13]}",
                "run": record,
                "config_text": json.dumps(record.config, indent=2, sort_keys=True),
                "overview": evidence.overview(),
                "charts": run_charts(evidence, record.run_instance_id),
                "family": family_rows(evidence.family()),
                "pbo": evidence.pbo(),
                "has_pbo_figure": evidence.has("figures/pbo_logits.png"),
                "regimes": evidence.regimes(),
                "artifacts": evidence.artifacts,
                "candidates": candidates,
            }

        return ctx.page(request, build)

    @router.get("/runs/{run_id}/artifacts/{name:path}", summary="Artifact bytes (dashboard)")
    def artifact_bytes(request: Request, run_id: str, name: str) -> Response:
        def build(session: WebSession) -> Response:
            full = resolve_run_id(ctx.engine, session.tenant_id, run_id)
            row, data = read_artifact(ctx.engine, ctx.store, session.tenant_id, full, name)
            suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
            media = _MEDIA.get(suffix, "application/octet-stream")
            headers = {
                **SECURITY_HEADERS,
                "ETag": f'"{row.sha256}"',
                "X-Content-SHA256": row.sha256,
                "Cache-Control": "private, max-age=3600",
            }
            if media == "text/html":  # a stored report must not run scripts in our origin
                headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src data:"
            if request.headers.get("if-none-match") == f'"{row.sha256}"':
                return Response(status_code=304, headers=headers)
            return Response(data, media_type=media, headers=headers)

        return ctx.page(request, build)

    @router.get("/compare", summary="Compare runs (dashboard page)")
    def compare_page(
        request: Request,
        run: Annotated[list[str], Query(max_length=64)] = [],  # noqa: B006
    ) -> Response:
        def build(session: WebSession) -> tuple[str, dict[str, Any]]:
            tenant = session.tenant_id
            if len(run) < 2 or len(run) > 6:
                raise ValidationError(
                    f"compare needs 2 to 6 runs, got {len(run)}",
                    "tick two or more runs on the runs page",
                )
            records = [get_run(ctx.engine, tenant, item) for item in run]
            columns = []
            for record in records:
                evidence = RunEvidence(ctx.engine, ctx.store, tenant, record.run_instance_id)
                rows = {
                    f"{h['signal']}@{h['horizon']}": h
                    for h in evidence.overview().get("hypotheses", [])
                }
                columns.append(
                    {
                        "run": record,
                        "rows": rows,
                        "chart": ic_decay_chart(evidence, record.run_instance_id),
                    }
                )
            hypotheses = sorted({key for column in columns for key in column["rows"]})
            diffs = [
                diff_runs(ctx.engine, tenant, records[0].run_instance_id, other.run_instance_id)
                for other in records[1:]
            ]
            return "compare.html", {
                "title": "Compare runs",
                "columns": columns,
                "hypotheses": hypotheses,
                "diffs": diffs,
            }

        return ctx.page(request, build)
