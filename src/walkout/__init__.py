"""walkout: an open platform for cashier-less, just-walk-out stores."""

__version__ = "0.1.0"
