"""The kernel every feature builds on: field types, problem formatting and the persisted send record."""
