"""Wallet payments: signed webhooks from Bankily, Masrvi and Sedad, applied exactly once, with a
receipt, a portal event and a reconciliation report (docs/WALLET_WEBHOOKS.md).

    notice      PaymentNotice, Provider, PaymentOutcome: the one model every adapter produces
    providers   one adapter per wallet: its webhook body -> PaymentNotice
    signature   Murur-Signature: HMAC-SHA256 over "<t>.<body>", timestamp tolerance
    secrets     the signing secrets (Secrets Manager, through Powertools parameters)
    service     decide, apply once (idempotency + conditional transition), record, receipt
    repository  PaymentsTable
    receipts    the receipt SMS
    webhook     one delivery: checks in order, then the payment
    report      python -m murur.payments.report: reconciliation by provider and day
"""
