"""The plugin's SQL store: models, migrations, the database handle and repositories."""
