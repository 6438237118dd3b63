"""Tables: sharded, changelog-backed key/value state, optionally windowed."""
