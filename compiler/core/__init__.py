"""Values every phase shares: diagnostics and their code table, fixes, safe file access."""
