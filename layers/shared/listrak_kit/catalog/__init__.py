"""The message catalog: names for Listrak's list, message and profile-field IDs, item blocks, event triggers."""
