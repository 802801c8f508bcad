"""Collections pack: the contact policy enforced per contact attempt, its violation report, the collection score."""
