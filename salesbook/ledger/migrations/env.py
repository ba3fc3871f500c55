"""Alembic environment of the ledger: migrations run on the connection salesbook hands over.

salesbook calls Alembic itself (salesbook.ledger.store); there is no alembic.ini. The connection
is already inside a transaction that holds the ledger's migration lock, so every step of an
upgrade commits together or not at all.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
