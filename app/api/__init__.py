"""The GraphQL API assembled: the schema (every feature's fields) and what runs around every
operation (extensions: caches, limits, input guard, error masking and logging, metrics)."""
