"""alembic's environment: migrations run on the connection gateway/state/migrations hands in."""

from alembic import context

from gateway.state.store import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite changes tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
