"""Typed configuration of an APPO run: the schema behind the Hydra groups and Isaac Lab's ``APPORunnerCfg``.

Every knob has a type, a default and a docstring. Hydra validates types and unknown keys against these
dataclasses (they are registered in Hydra's ConfigStore by :mod:`isaac_hydra_ext.config.store`);
:func:`isaac_hydra_ext.config.validation.validate_config` checks values and relations between them.

Sizes per iteration (see docs/architecture.md):
    W = ``ppo.num_workers``, B = ``ppo.envs_per_worker``, T = ``ppo.steps_per_env``,
    N = W * B * T samples per learner iteration, split into ``ppo.num_minibatches`` minibatches (of N / num_minibatches
    samples; or minibatches of a fixed ``ppo.batch_size`` = M samples, ceil(N / M) of them, when it is > 0), and
    ``ppo.update_epochs`` passes over the N samples: E * num_minibatches optimizer steps per iteration for any W.

Every default lives here and nowhere else: the Hydra groups are these dataclasses (stored by
:mod:`~isaac_hydra_ext.config.store`), env presets in ``conf/env/`` set only what differs for their task, and
Isaac Lab's ``APPORunnerCfg`` inherits :class:`PPOConfig` (``tests/config/test_single_home.py`` checks all three).
The ``ppo`` group is split by reader: :class:`SamplerConfig` (collection), :class:`ModelConfig` (networks) and
:class:`AlgorithmConfig` (the update); each component receives only its own section (:func:`section`).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

MODES = ("async", "sync", "serial")
SCHEDULES = ("adaptive", "fixed")
CORRECTIONS = ("vtrace", "none")
RATIO_REFERENCES = ("behaviour", "target")
ACTIVATIONS = ("elu", "relu", "tanh", "selu", "gelu", "silu", "leaky_relu")
ENV_ERROR_POLICIES = ("restart", "raise")
RNN_TYPES = ("none", "lstm", "gru")

_SectionT = TypeVar("_SectionT", bound="SamplerConfig | ModelConfig | AlgorithmConfig")
CONSOLE_MODES = ("auto", "progress", "line", "none")


@dataclass
class SamplerConfig:
    """How rollouts are collected: the worker processes or in-process collectors and their robustness knobs.

    Read by the sampler factory, the worker pool and the workers; the algorithm never sees these.
    """

    mode: str = "async"
    """``async``: collection overlaps the learner's update (policy lag >= 0); ``sync``: collection waits for the
    weights trained on the previous rollout (classic PPO, lag 0); ``serial``: W collectors stepped one after the
    other in the learner process, with CPU policy copies exactly like workers (debugging, deterministic tests)."""
    num_workers: int = 2
    """W: worker processes, each owning one vectorized env of B envs (serial mode: in-process collectors).
    0: one vectorized env of B envs in the learner process, on the env's own device (Isaac Lab's GPU envs);
    it alternates with the update under ``sync`` and collects the next rollout during the update under ``async``."""
    envs_per_worker: int = 32
    """B: environments in each worker's vectorized env (with ``num_workers=0``: in the learner's env)."""
    steps_per_env: int = 64
    """T: steps each env takes per rollout (the rollout length). The defaults' B * T = 2048 samples per worker and
    iteration are, with one worker, the batch of CleanRL's MuJoCo PPO, and with many enough samples per optimizer
    step that a GPU learner (~0.13 s per 20-step update) keeps up with workers stepping ~10k env steps/s each
    (docs/benchmarks.md, "Any gymnasium env with the defaults")."""
    slots_per_worker: int = 2
    """Rollout-buffer slots owned by each worker (>= 2 so a worker fills one while the learner reads another)."""
    rollouts_per_iteration: int = 0
    """Slots the learner consumes per iteration; 0 means W (so an iteration trains on N = W*B*T samples)."""
    on_env_error: str = "restart"
    """What an env exception or non-finite observation/reward does: ``restart`` the worker (its partial
    rollout is discarded) or ``raise`` (stop the run with the worker's error)."""
    max_worker_restarts: int = 10
    """Total worker restarts allowed in a run; one more stops the run with the last worker error."""
    heartbeat_timeout_s: float = 120.0
    """A worker that shows no sign of life for this long is considered hung, killed and restarted (a starting
    worker, before its first sign of life, gets at least 60 s: importing torch takes a while on a loaded machine)."""
    allow_oversubscription: bool = False
    """Start more than 4 worker processes per CPU core (refused otherwise: they would only slow each other down)."""


@dataclass
class ModelConfig:
    """The actor-critic networks and their observation normalization (read by the learner, workers and export)."""

    actor_hidden_dims: list[int] = field(default_factory=lambda: [256, 128, 64])
    """Hidden layer sizes of the actor MLP."""
    critic_hidden_dims: list[int] = field(default_factory=lambda: [256, 128, 64])
    """Hidden layer sizes of the critic MLP."""
    activation: str = "elu"
    """Hidden activation: elu, relu, tanh, selu, gelu, silu or leaky_relu."""
    init_std: float = 1.0
    """Initial standard deviation of the Gaussian policy (state-independent, learned as log-std)."""
    orthogonal_init: bool = True
    """Orthogonal weight init (gain sqrt(2) hidden, 0.01 actor output, 1.0 critic output); else PyTorch default."""
    obs_normalization: bool = True
    """Running mean/std observation normalization (statistics travel to the workers with the weights)."""
    obs_clip: float = 10.0
    """Normalized observations are clipped to [-obs_clip, obs_clip]."""
    value_normalization: bool = True
    """Learn values in units of running return statistics (keeps the value loss's scale independent of the
    reward scale, so it cannot swamp the policy gradient under the shared grad-norm clip)."""
    rnn_type: str = "none"
    """Recurrent memory between the observation normalizer and the actor MLP (rsl_rl's ``rnn_type``): ``none`` (a
    feed-forward policy), ``lstm`` or ``gru``. Workers carry each env's hidden state across rollouts (reset where an
    episode ends), the buffer stores it at each rollout's start, and the learner replays whole rollouts (truncated
    backprop through T steps; minibatches split the envs, not time). The critic reads the same memory's output
    (a shared recurrent core: workers run only the policy, so its state is the one the buffer holds)."""
    rnn_hidden_dim: int = 256
    """Units of each recurrent layer (rsl_rl's ``rnn_hidden_dim``); read only when ``rnn_type`` is not ``none``."""
    rnn_num_layers: int = 1
    """Stacked recurrent layers (rsl_rl's ``rnn_num_layers``); read only when ``rnn_type`` is not ``none``."""


@dataclass
class AlgorithmConfig:
    """The APPO update: optimisation, off-policy correction and learner performance (read by the algorithm only)."""

    update_epochs: int = 5
    """E: passes over the iteration's samples."""
    num_minibatches: int = 4
    """Minibatches per epoch: each iteration's N = W*B*T samples are split into this many (rsl_rl's
    ``num_mini_batches``), so an iteration is ``update_epochs * num_minibatches`` optimizer steps whatever the worker
    count: more workers make the minibatches larger, not the learner's work per iteration longer."""
    batch_size: int = 0
    """M: if > 0, a fixed minibatch size in samples instead of ``num_minibatches``: ``ceil(N / M)`` minibatches per
    epoch, a count (and learner time per iteration) that grows with the workers; 0: use ``num_minibatches``."""
    learning_rate: float = 1e-3
    """Adam learning rate. With ``schedule=fixed`` the rate throughout; with ``schedule=adaptive`` only the starting
    value: the KL rule rescales it after every minibatch, so within the first iteration it goes wherever
    ``desired_kl`` puts it (sweep ``desired_kl`` to change the step size, not this)."""
    schedule: str = "adaptive"
    """``adaptive``: rsl_rl's KL-driven learning rate (divide by 1.5 when KL > 2*desired_kl, multiply by 1.5
    when KL < desired_kl/2); ``fixed``: constant."""
    desired_kl: float = 0.01
    """Target KL divergence between the pre-update and the updated policy for the adaptive schedule: the step size
    of each iteration's update (the knob a sweep should turn under ``schedule=adaptive``)."""
    min_learning_rate: float = 1e-5
    """Lower bound of the adaptive learning rate."""
    max_learning_rate: float = 1e-2
    """Upper bound of the adaptive learning rate."""
    gamma: float = 0.99
    """Discount factor."""
    lam: float = 0.95
    """GAE lambda (also the trace-cutting lambda inside V-trace)."""
    clip_param: float = 0.2
    """PPO ratio clip epsilon; also the value-clipping range."""
    use_clipped_value_loss: bool = True
    """Clip the value prediction around the pre-update value, as PPO2/rsl_rl do."""
    value_loss_coef: float = 1.0
    """Weight of the value loss."""
    entropy_coef: float = 0.0
    """Weight of the entropy bonus."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clip."""
    normalize_advantage: bool = True
    """Normalize advantages to zero mean, unit std over the iteration's valid samples."""

    off_policy_correction: str = "vtrace"
    """``vtrace``: value targets and advantages from V-trace with truncated importance weights;
    ``none``: plain GAE on the (possibly lagged) samples."""
    vtrace_rho_clip: float = 1.0
    """rho-bar: truncation of the importance weight in the V-trace TD term."""
    vtrace_c_clip: float = 1.0
    """c-bar: truncation of the importance weight in the V-trace trace."""
    ratio_reference: str = "behaviour"
    """Centre of PPO's trust region with V-trace: ``behaviour`` (ratio pi_theta/mu, the policy that acted) or
    ``target`` (ratio pi_theta/pi_target, the policy at the start of the update, with the advantage weighted by the
    truncated importance weight min(rho_bar, pi_target/mu); IMPACT's form, less clipping when lag is high)."""
    max_policy_lag: int = 20
    """Samples whose policy version is more than this many versions behind the learner are dropped (counted)."""

    max_nonfinite_updates: int = 5
    """Consecutive minibatch updates with a non-finite loss or gradient (each skipped) before the run stops."""

    use_data_augmentation: bool = False
    """Symmetry data augmentation (rsl_rl's ``symmetry_cfg.use_data_augmentation``): each minibatch gets the mirror
    images of its samples appended (mirrored observations and actions, with the originals' advantages, returns,
    values and behaviour log-probabilities), so the policy and value losses are taken over both. Needs the task's
    mirror (see ``mirror_function``)."""
    use_mirror_loss: bool = False
    """Add rsl_rl's mirror loss ``mirror_loss_coeff * mean |mu(mirror(s)) - mirror(mu(s))|^2`` over each minibatch:
    the policy mean's disagreement with its own mirror image (the target ``mirror(mu(s))`` carries no gradient).
    Needs the task's mirror. With either symmetry switch on, ``loss/symmetry`` logs this value."""
    mirror_loss_coeff: float = 0.0
    """Weight of the mirror loss (rsl_rl's ``mirror_loss_coeff``, default 0 as there); must be > 0 with
    ``use_mirror_loss``."""
    mirror_function: str = ""
    """``package.module:function`` of the mirror factory ``(EnvSpec) -> mirror`` (an object with
    ``mirror_observation`` and ``mirror_action``; see :mod:`isaac_hydra_ext.envs.symmetry`), rsl_rl's
    ``data_augmentation_func``; empty: the one the task names (the Go1 tasks name their left-right mirror)."""

    compile: bool = False
    """torch.compile the learner's loss computation (GPU learner)."""
    mixed_precision: bool = False
    """bf16 autocast of the learner's forward passes on CUDA."""


@dataclass
class PPOConfig(AlgorithmConfig, ModelConfig, SamplerConfig):
    """The training settings of Hydra group ``ppo``: the sampler, model and algorithm sections in one flat group.

    Each field is defined once, in the section of the component that reads it (:class:`SamplerConfig`,
    :class:`ModelConfig`, :class:`AlgorithmConfig`); the flat ``ppo.<key>`` names stay what users type (and what
    Isaac Lab's ``APPORunnerCfg`` inherits). :func:`section` hands each component only its own section.
    """


def section(cfg: PPOConfig, kind: type[_SectionT]) -> _SectionT:
    """The ``kind`` section (:class:`SamplerConfig`, :class:`ModelConfig` or :class:`AlgorithmConfig`) of ``cfg``.

    A fresh object holding only that section's fields, so a component cannot read another's settings.
    """
    return kind(**{f.name: copy.deepcopy(getattr(cfg, f.name)) for f in dataclasses.fields(kind)})


@dataclass
class LaunchConfig:
    """How a backend that needs a launcher starts its simulator inside each worker process.

    Filled in by the Isaac Lab train script (``--num_workers N``), empty otherwise; read only by the backend's
    adapter (:mod:`isaac_hydra_ext.isaaclab.worker_env`).
    """

    launcher_args: dict[str, Any] = field(default_factory=dict)
    """The simulator launcher's options (Isaac Lab's ``AppLauncher`` arguments such as ``device``)."""
    overrides: list[str] = field(default_factory=list)
    """The task's ``env.*`` / ``agent.*`` command-line overrides, applied to the same task config in every worker."""


@dataclass
class EnvConfig:
    """Which environment the workers step (Hydra group ``env``)."""

    backend: str = "gym"
    """Env backend: ``gym`` (any gymnasium id, including the embedded MuJoCo Go1 task), ``isaaclab`` (an Isaac Lab
    task, started by the Isaac Lab train script) or ``package.module:function`` (a factory ``(EnvConfig, num_envs)
    -> VecEnv``); see :mod:`isaac_hydra_ext.envs.backends`."""
    id: str = "???"
    """Environment id in the gymnasium registry (required: ``env=gym env.id=Hopper-v5``; env presets set it)."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for the env constructor (task parameters)."""
    max_episode_steps: int = 0
    """Override of the registered time limit; 0 keeps the registered one."""
    clip_actions: bool = True
    """Clip actions to the action space bounds before stepping (the unclipped action is what is trained on)."""
    launch: LaunchConfig = field(default_factory=LaunchConfig)
    """Launcher settings of backends that start a simulator per worker (set by the Isaac Lab train script)."""


@dataclass
class LoggingConfig:
    """What is logged and how often (Hydra group ``logging``)."""

    tensorboard: bool = True
    """Write TensorBoard event files in the run directory."""
    console: str = "auto"
    """Console output after the start banner: ``auto`` (a live progress display with steps/budget, steps/s, ETA,
    return and episode length when stdout is a terminal; plain lines when it is a pipe or a file), ``progress``
    (the live display even when stdout is not detected as a terminal), ``line`` (one plain line per log
    interval), ``none`` (no banner, no progress)."""
    log_every_iterations: int = 1
    """Console, TensorBoard and W&B logging interval in learner iterations."""
    episode_window: int = 100
    """Mean return / length are over the last this-many finished episodes."""
    wandb: bool = False
    """Also log to Weights & Biases (needs ``pip install 'isaac_hydra_ext[wandb]'``): the same scalars as
    TensorBoard at env steps, the resolved config, videos, the final summary; run name = the run directory's
    name, files in ``<run>/wandb/``; a resumed run continues its W&B run. ``WANDB_MODE=offline`` works without a
    network."""
    wandb_project: str = "isaac_hydra_ext"
    """W&B project of the run."""
    wandb_entity: str = ""
    """W&B entity (user or team); empty: the logged-in user's default entity."""
    wandb_group: str = ""
    """W&B group of the run (e.g. a sweep's name); empty: none."""
    video_every_iterations: int = 0
    """Film the current policy every this many learner iterations (0: never) in a render env of its own, in a
    low-priority recorder process started by the learner (the workers are not involved):
    ``<run>/videos/iteration_<N>.mp4``, also in TensorBoard and W&B. Any gymnasium env with
    ``render_mode="rgb_array"`` (MuJoCo envs need EGL or OSMesa); needs ``imageio-ffmpeg``
    (``pip install 'isaac_hydra_ext[video]'``). Not for Isaac Lab tasks (use the train script's ``--video``)."""
    video_length: int = 200
    """Frames per video (one per env step; 200 = 4 s of the Go1 task at 50 Hz)."""
    curves: bool = True
    """At the end of the run, draw ``<run>/curves.png`` (return, episode length and the task's main metric against
    env steps and wall time; needs matplotlib: ``pip install 'isaac_hydra_ext[plots]'``, else one warning)."""
    curves_metric: str = ""
    """Key of ``metrics.jsonl`` drawn as the task's main metric in ``curves.png``; empty: automatic (the Go1 task's
    velocity-tracking error ``Metrics/base_velocity/error_vel_xy``, else the first ``Metrics/...`` key)."""


@dataclass
class CheckpointConfig:
    """Checkpointing and resuming (Hydra group ``checkpoint``)."""

    every_iterations: int = 50
    """Write ``model_<iteration>.pt`` every this many iterations (0: only at the end)."""
    keep_last: int = 5
    """Periodic checkpoints kept on disk (older ones are deleted); 0 keeps all."""
    save_on_exit: bool = True
    """Write a final checkpoint when the run ends, is interrupted (Ctrl-C, SIGTERM) or fails."""
    resume: str = ""
    """``""``: fresh run; ``latest``: the newest checkpoint under ``<output_dir>/<name>/``; or a checkpoint path
    (a ``model_<iteration>.pt`` file, or a run directory: its newest checkpoint)."""
    allow_env_change: bool = False
    """Resume a checkpoint written for another ``env.id`` (refused otherwise, even when the shapes match)."""


@dataclass
class ExperimentConfig:
    """Run identity, budget and placement (Hydra group ``experiment``)."""

    name: str = "appo"
    """Experiment name; runs go to ``<output_dir>/<name>/<timestamp>/``."""
    output_dir: str = "logs/appo"
    """Root directory of all runs (relative to the working directory)."""
    seed: int = 1
    """Base seed; worker w uses seed + 1000 * (w + 1) (+ restart count); rank r adds 100003 * r."""
    max_env_steps: int = 1_000_000
    """Stop after this many environment steps have been collected (summed over ranks); 0: no step limit."""
    max_iterations: int = 0
    """Stop after this many learner iterations; 0: no iteration limit."""
    max_wall_time_s: float = 0.0
    """Stop (with a checkpoint) after this many seconds; 0: no limit."""
    device: str = "auto"
    """Learner device: ``auto`` (cuda when present), ``cpu``, ``cuda`` or ``cuda:N``."""
    torch_threads: int = 0
    """torch.set_num_threads in the learner; 0 picks the cores the workers leave free (at most 4) when workers run,
    all cores but one with in-process async collection (one for its collector thread), else all cores."""
    distributed: bool = False
    """Multi-process data-parallel learners under torchrun (one rank per GPU); see docs/scaling_out.md."""


@dataclass
class TrainConfig:
    """The whole run: the composed Hydra config of ``train_appo.yaml``."""

    env: EnvConfig = field(default_factory=EnvConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
