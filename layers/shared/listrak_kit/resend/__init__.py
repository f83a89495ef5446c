"""Resending a transactional email within Listrak's 30-day window, to the original or a corrected address."""
