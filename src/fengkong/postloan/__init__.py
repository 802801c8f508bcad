"""Post-loan pack: loan-fund flow tracing and classification, transfer alerts, evidence packs, portfolio reports."""
