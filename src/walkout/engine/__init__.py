"""The deterministic fusion engine: protocol messages in, cart events out."""
