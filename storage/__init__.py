"""Persistence: SQLAlchemy models, database access and migrations."""
