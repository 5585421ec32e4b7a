"""Tables, engine and repositories: the only package that imports sqlalchemy.orm."""
