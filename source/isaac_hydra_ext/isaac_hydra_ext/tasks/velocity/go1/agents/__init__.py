"""Agent configs of the Sber Go1 tasks: APPO (ours) and rsl_rl (Isaac Lab's, for comparison)."""
