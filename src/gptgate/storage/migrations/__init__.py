"""Alembic migrations, run programmatically by ``SqlStore.migrate`` (no alembic.ini).

Add a revision: copy ``versions/0001_accounts.py`` to ``versions/000N_<what>.py``, set
``revision = "000N"`` and ``down_revision`` to the previous one, change ``schema.py`` to match;
``tests/storage/test_migrations.py`` checks the result equals the metadata on both backends.
Use ``op.batch_alter_table`` for changes SQLite cannot ALTER in place.
"""
