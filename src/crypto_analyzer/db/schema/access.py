"""Access control: tenants, principals, hashed API keys and idempotency keys for API writes.

``tenants.mode`` (revision 0008) says whether a tenant is a ``governed`` workspace (the default:
governed writes use the real clock and authenticated principals) or an explicit ``sandbox`` (demo
and tests: the pinned clock and declared actors are allowed). Triggers of that revision keep the
mode and the tenant id immutable and refuse deleting a tenant row.
"""

from __future__ import annotations

import sqlalchemy as sa

from crypto_analyzer.db.schema._base import (
    TABLE_OPTIONS,
    metadata,
    tenant_column,
    text_enum_check,
)

__all__ = ["ROLES", "WORKSPACE_MODES", "api_keys", "idempotency_keys", "principals", "tenants"]

ROLES = ("researcher", "reviewer", "admin")
WORKSPACE_MODES = ("governed", "sandbox")

tenants = sa.Table(
    "tenants",
    metadata,
    tenant_column(),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("mode", sa.Text(), nullable=False, server_default="governed"),
    sa.Column("policy_digest", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("tenant_id"),
    text_enum_check("mode", WORKSPACE_MODES, "mode"),
    **TABLE_OPTIONS,
)

principals = sa.Table(
    "principals",
    metadata,
    tenant_column(),
    sa.Column("principal_id", sa.Text(), nullable=False),
    sa.Column("display_name", sa.Text(), nullable=False),
    sa.Column("role", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("disabled_at", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "principal_id"),
    text_enum_check("role", ROLES, "role"),
    **TABLE_OPTIONS,
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    tenant_column(),
    sa.Column("key_id", sa.Text(), nullable=False),
    sa.Column("principal_id", sa.Text(), nullable=False),
    sa.Column("key_hash", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("expires_at", sa.Text(), nullable=True),
    sa.Column("revoked_at", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "key_id"),
    sa.UniqueConstraint("key_hash"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "principal_id"], ["principals.tenant_id", "principals.principal_id"]
    ),
    **TABLE_OPTIONS,
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    tenant_column(),
    sa.Column("principal_id", sa.Text(), nullable=False),
    sa.Column("idempotency_key", sa.Text(), nullable=False),
    sa.Column("request_digest", sa.Text(), nullable=False),
    sa.Column("response_status", sa.Integer(), nullable=False),
    sa.Column("response_body", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "principal_id", "idempotency_key"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "principal_id"], ["principals.tenant_id", "principals.principal_id"]
    ),
    **TABLE_OPTIONS,
)
