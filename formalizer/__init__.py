"""Natural language to formal: deterministic claim extraction and chain-of-thought step checking."""
