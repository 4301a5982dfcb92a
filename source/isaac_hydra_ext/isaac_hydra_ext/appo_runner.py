"""``python -m isaac_hydra_ext.appo_runner [overrides]``: the Hydra train command (its code is :mod:`.cli.train`)."""

if __name__ == "__main__":
    from isaac_hydra_ext.cli import early_signals

    early_signals.install()  # before the heavy imports: a Ctrl-C during start-up still ends in order

    from isaac_hydra_ext.cli.train import main

    main()
