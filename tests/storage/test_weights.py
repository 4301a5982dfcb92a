"""Weight publishing through shared memory across real processes: versions increase, no torn reads."""

import multiprocessing as mp

import torch
from isaac_hydra_ext.storage.weights import SharedWeights, WeightPublisher, WeightSubscriber
from torch import nn


def _module():
    m = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 8))
    m.register_buffer("stat", torch.zeros(3, dtype=torch.float64))
    return m


def _fill(module: nn.Module, value: float) -> None:
    with torch.no_grad():
        for t in module.state_dict().values():
            t.fill_(value)


def test_publish_then_refresh_in_process():
    src, dst = _module(), _module()
    block = SharedWeights.for_module(src, shared=False)
    pub, sub = WeightPublisher(src, block), WeightSubscriber(dst, block)
    _fill(src, 3.0)
    assert pub.publish() == 1
    assert sub.refresh() is True and sub.version == 1
    assert all((t == 3.0).all() for t in dst.state_dict().values())
    assert sub.refresh() is False  # nothing new


def _reader(block: SharedWeights, out: mp.Queue, stop_version: int) -> None:
    dst = _module()
    sub = WeightSubscriber(dst, block)
    seen, torn = [], 0
    while sub.version < stop_version:
        if sub.refresh():
            values = torch.cat([t.reshape(-1).float() for t in dst.state_dict().values()])
            if not bool((values == values[0]).all()) or float(values[0]) != float(sub.version):
                torn += 1
            seen.append(sub.version)
    out.put((seen, torn))


def test_concurrent_publishing_never_yields_a_torn_read():
    # Publication k fills every value with k; a consistent read sees one value everywhere, equal to its version.
    src = _module()
    block = SharedWeights.for_module(src, shared=True)
    pub = WeightPublisher(src, block)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    n = 300
    readers = [ctx.Process(target=_reader, args=(block, out, n)) for _ in range(2)]
    for r in readers:
        r.start()
    for k in range(1, n + 1):
        _fill(src, float(k))
        assert pub.publish() == k
    results = [out.get(timeout=60) for _ in readers]
    for r in readers:
        r.join(30)
    for seen, torn in results:
        assert torn == 0
        assert seen == sorted(set(seen)) and seen[-1] == n  # strictly increasing, ends at the last version
