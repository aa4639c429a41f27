"""The kernels' output blocks are reused only when no array refers to them any more."""
import threading

import numpy as np

from dualnum.backends import blocks

BIG = (3, 100_000)  # 2.4 MB: above blocks.MIN_BYTES


def test_a_block_is_reused_only_after_every_view_of_it_is_gone():
    blocks.clear()
    a = blocks.empty(BIG)
    a_id = id(a.base)
    value, parts = a[0], a[1:]  # what a kernel's DualArray keeps: views of one block
    del a
    b = blocks.empty(BIG)
    assert b.base is not value.base  # the block is still seen through value and parts: not handed out again
    del value
    c = blocks.empty(BIG)
    assert c.base is not parts.base and c.base is not b.base
    del parts
    d = blocks.empty(BIG)
    assert id(d.base) == a_id  # now free: reused
    d[...] = 1.0  # writing it disturbs nobody
    assert b.shape == c.shape == d.shape == BIG


def test_small_arrays_are_plain_numpy_and_sizes_never_mix():
    blocks.clear()
    assert blocks.empty((10,)).base is None
    a = blocks.empty(BIG)
    base = id(a.base)  # (its id: holding the block itself would keep it in use)
    del a
    other = blocks.empty((4, 100_000))
    assert id(other.base) != base  # another size: another block
    assert id(blocks.empty(BIG).base) == base


def test_free_blocks_not_used_for_a_while_are_given_back():
    blocks.clear()
    a = blocks.empty(BIG)
    del a
    held = blocks.held()
    for _ in range(blocks.STALE + 2):
        keep = blocks.empty((2, 200_000))  # noqa: F841  (another size, so the first block stays free)
    assert blocks.held() < held + 2 * 200_000 * 8 * 2  # the stale block was given back
    assert all(e[0].size != 3 * 100_000 for e in blocks._blocks)


def test_threads_never_share_a_live_block():
    blocks.clear()
    bad = []

    def work(tag):
        for _ in range(200):
            a = blocks.empty(BIG)
            a[...] = tag
            if not np.all(a == tag):  # another thread wrote into our block
                bad.append(tag)
    threads = [threading.Thread(target=work, args=(float(t),)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


def test_what_is_kept_stays_within_the_limit_over_many_sizes():
    blocks.clear()
    for i in range(400):
        a = blocks.empty((2, 100_000 + i))  # a new size every time: nothing is ever reused
        del a
    assert 0 < blocks.held() <= blocks.LIMIT
    assert len(blocks._blocks) <= blocks.LIMIT // (2 * 100_000 * 8)
