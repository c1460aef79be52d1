"""Escrow back-office: orders by state and overdue deadline with their ledger (`orders`), the disputes
queue (`disputes`), bank transfers awaiting reconciliation, payouts and refunds (`money`). Every button
calls the same service as the website; domain errors become admin messages (`common`)."""

from . import disputes, money, orders  # noqa: F401 (each registers its admins)
