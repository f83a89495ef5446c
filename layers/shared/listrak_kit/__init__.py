"""Shared code for the Listrak functions: the Listrak client, token cache, catalog and send logic."""
