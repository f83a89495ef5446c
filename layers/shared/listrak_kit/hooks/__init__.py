"""Storefront doors for platforms that cannot call with an API key: Shopify's signed webhooks, Klaviyo-shaped events."""
