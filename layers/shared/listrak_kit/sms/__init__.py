"""Transactional SMS: phone numbers, segment counting, and the send with consent respected, at most once."""
