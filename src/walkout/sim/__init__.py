"""The store's digital twin: shoppers, shelves and cameras that emit PROTOCOL messages."""
