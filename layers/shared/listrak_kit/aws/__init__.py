"""Adapters to AWS services (Secrets Manager, DynamoDB), each behind the small interface its caller defines."""
