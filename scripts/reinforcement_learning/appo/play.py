r"""Replay an APPO checkpoint on an Isaac Lab task and export the policy (TorchScript and ONNX).

    isaaclab.sh -p scripts/reinforcement_learning/appo/play.py --task Isaac-Velocity-Sber-Unitree-Go1-Play-v0
    python scripts/reinforcement_learning/appo/play.py --task Isaac-Velocity-Sber-Flat-Unitree-Go1-Play-v0 \\
        --checkpoint logs/appo/sber_go1_flat/<run>/model_300.pt --num_steps 1000

Without ``--checkpoint`` the newest run of the task's experiment and its last ``model_<iteration>.pt`` are used, as
Isaac Lab's play script does. The policy is exported to ``<run>/exported/policy.pt`` and ``policy.onnx`` with the
observation normalizer folded in.
"""

import sys

from isaac_hydra_ext.isaaclab.play import main_play

if __name__ == "__main__":
    sys.exit(main_play())
