"""appo."""
