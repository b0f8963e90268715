"""The configuration: schema, TOML file, rules, validation, and the cache of validated ones.

Only `validate` imports pydantic; the launch path uses `schema`, `file` and `cache`.
"""
