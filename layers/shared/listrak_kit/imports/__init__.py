"""Scheduled imports into Listrak's Data Import API."""
