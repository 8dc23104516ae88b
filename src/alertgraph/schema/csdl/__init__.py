"""Graph's CSDL documents shipped with the package (origin and trimming in README.md here)."""
