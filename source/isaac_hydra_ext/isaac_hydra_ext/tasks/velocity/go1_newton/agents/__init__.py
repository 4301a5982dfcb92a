"""Agent configs of the Newton Sber Go1 task: APPO (ours) and rsl_rl (Isaac Lab's Go1 flat numbers)."""
