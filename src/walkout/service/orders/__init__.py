"""Order ahead for pickup and meal kits: catalog, slots, orders, the signed pickup code."""
