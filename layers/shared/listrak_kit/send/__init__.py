"""Sending a transactional email: request models, the catalog lookup, duplicate protection, the Listrak call."""
