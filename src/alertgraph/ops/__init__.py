"""Operator tooling outside the request path (the Citus layout for sharding by tenant)."""
