r"""Train an APPO agent on an Isaac Lab task.

    isaaclab.sh -p scripts/reinforcement_learning/appo/train.py --task Isaac-Velocity-Sber-Unitree-Go1-v0 --headless
    python scripts/reinforcement_learning/appo/train.py --task Isaac-Velocity-Sber-Flat-Unitree-Go1-v0 \\
        --num_envs 1024 agent.learning_rate=0.0003          # Hydra-style overrides: env.* and agent.*

Launch Isaac Sim Simulator first: the simulator is started (2.x) or the configs are resolved and a kit-less
simulation is started where possible (3.x) by ``isaac_hydra_ext.isaaclab.compat.open_task`` before any task import.
Logs go to ``logs/appo/<experiment_name>/<timestamp>/`` (params/env.yaml, params/agent.yaml, model_<it>.pt,
TensorBoard events, summary.json).
"""

import sys

from isaac_hydra_ext.isaaclab.train import main_train

if __name__ == "__main__":
    sys.exit(main_train())
