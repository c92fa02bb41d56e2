"""The semantic phase: lowering the syntax tree to the typed IR, projects of several files, the one analysis of a
project (bodies, contexts, links, joins) and the callback credentials."""
