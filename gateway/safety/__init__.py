"""Safety and privacy: personal data masking."""
