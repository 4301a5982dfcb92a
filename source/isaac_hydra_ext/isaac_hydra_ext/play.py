"""``python -m isaac_hydra_ext.play [key=value ...]``: replay a checkpoint (its code is :mod:`.cli.play`)."""

if __name__ == "__main__":
    import sys

    from isaac_hydra_ext.cli.play import main

    sys.exit(main())
