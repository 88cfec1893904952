"""Plain types of walkout: the store, sensor messages, truth and receipts. No I/O here."""
