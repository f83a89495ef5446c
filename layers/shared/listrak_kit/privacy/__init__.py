"""Forgetting a person, and telling them what is held: Listrak's Privacy API, the product's own data, and
Shopify's compliance topics."""
