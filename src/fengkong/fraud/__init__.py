"""The anti-fraud pack: association graph, ring detection, identity-theft defence and fraud signals."""
