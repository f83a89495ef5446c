"""Listrak's REST API: HTTP transport with retries, OAuth2 tokens, and the Email API calls this project makes."""
