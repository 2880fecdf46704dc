"""The offline demo: a local server with a sample week of posts, and its settings."""
