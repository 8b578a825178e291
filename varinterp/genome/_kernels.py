"""Numba kernels that build personal windows, indels included, from the store's arrays.

Every kernel is serial over a slice ``[lo, hi)`` of the requested windows and releases
the GIL, so `varinterp.genome._threads` can share the windows of one call between
threads (no OpenMP pool, no spin-waiting). ``S`` is the store tuple of
`varinterp.genome.store.GenomeStore` (all contiguous):

- ``ref`` ``(total_length,) uint8`` base codes of every stored contig, concatenated;
  ``ref_offset``, ``ref_length`` ``(n_contigs,) int64``;
- ``var_lo``, ``var_hi`` ``(n_contigs,) int64`` each contig's slice of the variants;
  ``max_span`` ``(n_contigs,) int64`` its longest REF allele;
- ``positions`` ``(n_variants,) int64`` 0-based VCF positions, sorted within a contig
  (ties in VCF order); ``ref_len`` ``(n_variants,) int32`` REF lengths;
- ``alt_offsets`` ``(n_variants + 1,) int64`` into ``alt_bases`` ``(k,) uint8`` codes;
- genotypes: ``gt_kind`` ``(n_variants,) uint8`` (0: ``gt_haps`` lists the carrying
  haplotypes, 1: it lists the haplotypes that do *not* carry ALT, 2: a dense row),
  ``gt_offsets`` ``(n_variants + 1,) int64`` into ``gt_haps`` ``(m,) uint16|uint32``
  (sorted haplotype ids ``2 * sample + h``), ``dense_row`` ``(n_variants,) int32`` and
  ``gt_dense`` ``(n_dense, 2, n_bytes) uint8`` (bit ``s & 7`` of byte ``s >> 3``).

**The edit model.** The store's genotypes are resolved at build time as ``bcftools
consensus`` resolves overlaps (a variant overlapping one already applied on the same
haplotype is dropped from that haplotype), so the variants a haplotype carries never
overlap. Each is an edit of the reference: REF ``[p, p + len(REF))`` becomes ALT; when
an indel's first base equals REF's (the VCF padding base) that base is left as it is and
the edit starts at ``p + 1``. ALT base ``i`` of an edit ``(s, r, alt)`` is *attributed* to
reference position ``s + i`` when ``i < r`` (paired), and extra ALT bases (an insertion)
to ``s + r - 0.5``, between the last REF base and the next; deleted bases have none.

**Anchoring.** A haplotype window of ``L`` bases over reference ``[start, start + L)``
takes, with ``mode`` 0 (*start*, as GenVarLoader), the first ``L`` haplotype bases
attributed to ``start`` or later; with 1 (*end*) the last ``L`` attributed before
``start + L``; with 2 (*centre*) the ``L // 2`` bases attributed before ``c = start +
L // 2`` and the ``L - L // 2`` from ``c`` on. Without length changes all three are the
reference window with substitutions. The reference coordinate of each output base is
its paired reference position, -1 for inserted bases; bases past a contig edge are N.
"""

from __future__ import annotations

import numba
import numpy as np

from varinterp.genome._numba_cache import ensure_numba_cache

__all__ = [
    "MODE_CENTRE",
    "MODE_END",
    "MODE_START",
    "carries",
    "fill_allele_context",
    "fill_codes",
    "fill_haplotype_codes",
    "fill_haplotypes",
    "fill_two_hot",
    "fill_two_hot_grouped",
]

MODE_START = 0
MODE_END = 1
MODE_CENTRE = 2

ensure_numba_cache(__file__)


@numba.njit(nogil=True, cache=True, inline="always")
def _first_at_or_after(positions, lo, hi, value):
    while lo < hi:
        mid = (lo + hi) >> 1
        if positions[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(nogil=True, cache=True, inline="always")
def _carries_pair(S, v, sample):
    # -> bits: 1 if haplotype 0 of `sample` carries v's ALT, 2 if haplotype 1 does.
    gt_kind, gt_offsets, gt_haps, dense_row, gt_dense = S[10], S[11], S[12], S[13], S[14]
    kind = gt_kind[v]
    if kind == 2:
        row = dense_row[v]
        byte = sample >> 3
        bit = sample & 7
        return ((gt_dense[row, 0, byte] >> bit) & 1) | (((gt_dense[row, 1, byte] >> bit) & 1) << 1)
    lo = gt_offsets[v]
    end = gt_offsets[v + 1]
    first = 2 * sample
    if lo == end or gt_haps[end - 1] < first or gt_haps[lo] > first + 1:
        return 3 if kind == 1 else 0  # outside the list's range: no entry for this sample
    hi = end
    while hi - lo > 8:  # binary search down to a short run, then scan it
        mid = (lo + hi) >> 1
        if gt_haps[mid] < first:
            lo = mid + 1
        else:
            hi = mid
    while lo < hi and gt_haps[lo] < first:
        lo += 1
    bits = 0
    if lo < end and gt_haps[lo] == first:
        bits = 1
        lo += 1
    if lo < end and gt_haps[lo] == first + 1:
        bits |= 2
    if kind == 1:
        bits ^= 3
    return bits


@numba.njit(nogil=True, cache=True, inline="always")
def carries(S, v, hap):
    """Whether haplotype ``hap`` (``2 * sample + h``) carries variant ``v``'s ALT."""
    return (_carries_pair(S, v, hap >> 1) >> (hap & 1)) & 1 == 1


@numba.njit(nogil=True, cache=True, inline="always")
def _first_near(S, c, start):
    # The first variant of contig c whose REF span can reach `start` or later; the variants
    # near a window [start, end) run from it while their position is below `end` (a scan:
    # a window holds few, and a second search cost more than it).
    positions, var_lo, var_hi, max_span = S[6], S[3], S[4], S[5]
    return _first_at_or_after(positions, var_lo[c], var_hi[c], start - max_span[c] + 1)


@numba.njit(nogil=True, cache=True)
def _substitutions(S, c, sample, start, length, indels, found, bits):
    # The variants carried near the window as (found[k], bits[k]); -1 when a carried
    # length change (with `indels`) needs the general path.
    positions, ref_len, alt_offsets, var_hi = S[6], S[7], S[8], S[4]
    v = _first_near(S, c, start)
    n = 0
    while v < var_hi[c] and positions[v] < start + length:
        b = _carries_pair(S, v, sample)
        if b:
            if ref_len[v] != alt_offsets[v + 1] - alt_offsets[v]:
                if indels:
                    return -1
            else:
                if n == found.shape[0]:
                    return -1
                found[n] = v
                bits[n] = b
                n += 1
        v += 1
    return n


@numba.njit(nogil=True, cache=True)
def _substituted_pair(S, c, start, length, n, found, bits, hap):
    # Both haplotypes over [start, start + length) with the substitutions found applied.
    ref, ref_offset, ref_length = S[0], S[1], S[2]
    positions, ref_len, alt_offsets, alt_bases = S[6], S[7], S[8], S[9]
    want_pos = False  # `found` stands in for the unused coordinate buffer
    _copy_ref(ref, ref_offset[c], ref_length[c], start, hap[0], 0, length, found, want_pos)
    _copy(hap[1], hap[0])
    for k in range(n):
        v = found[k]
        p = positions[v]
        a0 = alt_offsets[v]
        for m in range(ref_len[v]):
            j = p + m - start
            if j < 0 or j >= length:
                continue
            if bits[k] & 1:
                hap[0, j] = alt_bases[a0 + m]
            if bits[k] & 2:
                hap[1, j] = alt_bases[a0 + m]


@numba.njit(nogil=True, cache=True, inline="always")
def _edit(S, v, ref_base):
    # -> (s, r, a0, a): the edit of variant v (see the module docstring).
    positions, ref_len, alt_offsets, alt_bases = S[6], S[7], S[8], S[9]
    s = positions[v]
    r = np.int64(ref_len[v])
    a0 = alt_offsets[v]
    a = alt_offsets[v + 1] - a0
    if r != a and alt_bases[a0] == ref_base:
        return s + 1, r - 1, a0 + 1, a - 1
    return s, r, a0, a


@numba.njit(nogil=True, cache=True, inline="always")
def _copy(dst, src):
    # dst[:] = src[:] for 1-d views of equal length. An element loop over views compiles
    # to a vectorised copy; numba's slice assignment is several times slower.
    for k in range(src.shape[0]):
        dst[k] = src[k]


@numba.njit(nogil=True, cache=True, inline="always")
def _ref_code(ref, offset, clen, p):
    if p >= 0 and p < clen:
        return ref[offset + p]
    return np.uint8(4)


@numba.njit(nogil=True, cache=True, inline="always")
def _copy_ref(ref, offset, clen, first, out, j, count, pos, want_pos):
    # Reference bases [first, first + count) -> out[j : j + count] (N outside the contig).
    lo = min(max(-first, 0), count)
    hi = max(min(clen - first, count), lo)
    for k in range(lo):
        out[j + k] = 4
    if hi > lo:
        _copy(out[j + lo : j + hi], ref[offset + first + lo : offset + first + hi])
    for k in range(hi, count):
        out[j + k] = 4
    if want_pos:
        for k in range(count):
            pos[j + k] = first + k


@numba.njit(nogil=True, cache=True)
def _forward(S, c, hap, x, n, use_variants, indels, out, pos, want_pos):
    # The first n haplotype bases attributed to x or later -> out[:n] (pos[:n]).
    ref, ref_offset, ref_length, var_lo, var_hi, max_span = S[0], S[1], S[2], S[3], S[4], S[5]
    positions, alt_bases = S[6], S[9]
    offset = ref_offset[c]
    clen = ref_length[c]
    j = 0
    cur = x
    if use_variants:
        hi = var_hi[c]
        v = _first_at_or_after(positions, var_lo[c], hi, x - max_span[c])
        while v < hi and j < n:
            p = positions[v]
            if p - cur >= n - j:
                break
            if not carries(S, v, hap):
                v += 1
                continue
            s, r, a0, a = _edit(S, v, _ref_code(ref, offset, clen, p))
            if r != a and not indels:
                v += 1
                continue
            if cur < s and j < n:
                count = min(s - cur, n - j)
                _copy_ref(ref, offset, clen, cur, out, j, count, pos, want_pos)
                j += count
                cur += count
            for i in range(a):
                if j >= n:
                    break
                if i < r:
                    if s + i >= x:
                        out[j] = alt_bases[a0 + i]
                        if want_pos:
                            pos[j] = s + i
                        j += 1
                elif s + r > x:  # inserted bases sit at s + r - 0.5
                    out[j] = alt_bases[a0 + i]
                    if want_pos:
                        pos[j] = -1
                    j += 1
            if s + r > cur:
                cur = s + r
            v += 1
    if j < n:
        _copy_ref(ref, offset, clen, cur, out, j, n - j, pos, want_pos)


@numba.njit(nogil=True, cache=True)
def _backward(S, c, hap, x, n, use_variants, indels, out, pos, want_pos):
    # The last n haplotype bases attributed before x -> out[:n] (pos[:n]).
    ref, ref_offset, ref_length, var_lo, var_hi, max_span = S[0], S[1], S[2], S[3], S[4], S[5]
    positions, alt_bases = S[6], S[9]
    offset = ref_offset[c]
    clen = ref_length[c]
    j = n
    cur = x
    if use_variants:
        lo = var_lo[c]
        v = _first_at_or_after(positions, lo, var_hi[c], x) - 1
        while v >= lo and j > 0:
            p = positions[v]
            if p + max_span[c] < cur - j:
                break
            if not carries(S, v, hap):
                v -= 1
                continue
            s, r, a0, a = _edit(S, v, _ref_code(ref, offset, clen, p))
            if r != a and not indels:
                v -= 1
                continue
            if cur > s + r and j > 0:
                count = min(cur - (s + r), j)
                cur -= count
                j -= count
                _copy_ref(ref, offset, clen, cur, out, j, count, pos, want_pos)
            for i in range(a - 1, -1, -1):
                if j <= 0:
                    break
                if i < r:
                    if s + i < x:
                        j -= 1
                        out[j] = alt_bases[a0 + i]
                        if want_pos:
                            pos[j] = s + i
                elif s + r <= x:
                    j -= 1
                    out[j] = alt_bases[a0 + i]
                    if want_pos:
                        pos[j] = -1
            if s < cur:
                cur = s
            v -= 1
    if j > 0:
        _copy_ref(ref, offset, clen, cur - j, out, 0, j, pos, want_pos)


@numba.njit(nogil=True, cache=True)
def _haplotype(S, c, hap, start, length, mode, use_variants, indels, out, pos, want_pos):
    if mode == MODE_START:
        _forward(S, c, hap, start, length, use_variants, indels, out, pos, want_pos)
    elif mode == MODE_END:
        _backward(S, c, hap, start + length, length, use_variants, indels, out, pos, want_pos)
    else:
        half = length // 2
        centre = start + half
        _backward(S, c, hap, centre, half, use_variants, indels, out, pos, want_pos)
        _forward(
            S, c, hap, centre, length - half, use_variants, indels,
            out[half:], pos[half:] if want_pos else pos, want_pos,
        )  # fmt: skip


@numba.njit(nogil=True, cache=True)
def _haplotype_pair(S, c, sample, start, length, mode, use_variants, indels, hap, dummy):
    # Both haplotypes of `sample` base by base (the general path) into hap (2, length).
    want_pos = False
    for h in range(2):
        _haplotype(S, c, 2 * sample + h, start, length, mode, use_variants, indels, hap[h], dummy,
                   want_pos)  # fmt: skip


@numba.njit(nogil=True, cache=True)
def fill_codes(
    S, samples, contigs, starts, length, mode, use_variants, indels, lo, hi, out, pos, want_pos
):  # fmt: skip
    """Base codes of both haplotypes of windows ``[lo, hi)`` into ``out (n, 2, length) uint8``
    and, with `want_pos`, their reference coordinates into ``pos (n, 2, length) int64``."""
    found = np.empty(256, dtype=np.int64)
    bits = np.empty(256, dtype=np.int64)
    for i in range(lo, hi):
        n = 0
        if use_variants:
            n = _substitutions(S, contigs[i], samples[i], starts[i], length, indels, found, bits)
        if n >= 0:  # substitutions only: every anchor gives the same window
            _substituted_pair(S, contigs[i], starts[i], length, n, found, bits, out[i])
            if want_pos:
                for h in range(2):
                    for j in range(length):
                        pos[i, h, j] = starts[i] + j
            continue
        for h in range(2):
            _haplotype(
                S, contigs[i], 2 * samples[i] + h, starts[i], length, mode, use_variants,
                indels, out[i, h], pos[i, h] if want_pos else pos[0, 0], want_pos,
            )  # fmt: skip


@numba.njit(nogil=True, cache=True, inline="always")
def _encode_pair(h0, h1, reverse, out_i):
    # Two-hot of two haplotype code rows into out_i (4, length). One channel row at a
    # time, in order (vectorises; N = code 4 -> zeros). Reverse complement: channel c goes
    # to row 3 - c and positions run backwards.
    length = h0.shape[0]
    for c in range(4):
        if reverse:
            row = out_i[3 - c]
            for j in range(length):
                k = length - 1 - j
                row[j] = np.uint8(h0[k] == c) + np.uint8(h1[k] == c)
        else:
            row = out_i[c]
            for j in range(length):
                row[j] = np.uint8(h0[j] == c) + np.uint8(h1[j] == c)


@numba.njit(nogil=True, cache=True, inline="always")
def _encode_doubled(h, reverse, out_i):
    # Two-hot of a homozygous window (both haplotypes = h) into out_i (4, length).
    length = h.shape[0]
    for c in range(4):
        if reverse:
            row = out_i[3 - c]
            for j in range(length):
                row[j] = np.uint8(h[length - 1 - j] == c) << 1
        else:
            row = out_i[c]
            for j in range(length):
                row[j] = np.uint8(h[j] == c) << 1


@numba.njit(nogil=True, cache=True, inline="always")
def _patch(S, c, start, length, v, bits, reverse, out_i):
    # Move one count per carrying haplotype (bit 1: haplotype 0, bit 2: haplotype 1) from
    # the reference base's channel to the ALT base's, for substitution v, in out_i (4,
    # length) holding the reference's two-hot. Carried substitutions never overlap on one
    # haplotype (the build resolves overlaps), so the counts stay exact.
    ref, ref_offset, ref_length = S[0], S[1], S[2]
    positions, ref_len, alt_offsets, alt_bases = S[6], S[7], S[8], S[9]
    p = positions[v]
    a0 = alt_offsets[v]
    times = (bits & 1) + (bits >> 1)
    for m in range(ref_len[v]):
        j = p + m - start
        if j < 0 or j >= length:
            continue
        old = _ref_code(ref, ref_offset[c], ref_length[c], p + m)
        new = alt_bases[a0 + m]
        if new == old:
            continue
        jj = length - 1 - j if reverse else j
        if old < 4:
            row = 3 - old if reverse else old
            out_i[row, jj] -= times
        if new < 4:
            row = 3 - new if reverse else new
            out_i[row, jj] += times


@numba.njit(nogil=True, cache=True)
def fill_two_hot(
    S, samples, contigs, starts, length, mode, use_variants, indels, reverse, lo, hi, out
):  # fmt: skip
    """Two-hot windows ``[lo, hi)`` into ``out (n, 4, length) uint8`` (every element written)."""
    ref, ref_offset, ref_length = S[0], S[1], S[2]
    hap = np.empty((2, length), dtype=np.uint8)
    dummy = np.empty(1, dtype=np.int64)
    found = np.empty(256, dtype=np.int64)
    bits = np.empty(256, dtype=np.int64)
    want_pos = False
    for i in range(lo, hi):
        c = contigs[i]
        n = 0
        if use_variants:
            n = _substitutions(S, c, samples[i], starts[i], length, indels, found, bits)
        if n >= 0:  # substitutions only: the reference's two-hot, patched
            _copy_ref(ref, ref_offset[c], ref_length[c], starts[i], hap[0], 0, length, dummy,
                      want_pos)  # fmt: skip
            _encode_doubled(hap[0], reverse, out[i])
            for k in range(n):
                _patch(S, c, starts[i], length, found[k], bits[k], reverse, out[i])
            continue
        _haplotype_pair(S, c, samples[i], starts[i], length, mode, use_variants, indels, hap,
                        dummy)  # fmt: skip
        _encode_pair(hap[0], hap[1], reverse, out[i])


@numba.njit(nogil=True, cache=True)
def fill_haplotypes(
    S, samples, contigs, starts, length, mode, use_variants, indels, reverse, lo, hi, out
):  # fmt: skip
    """One-hot haplotype windows ``[lo, hi)`` into ``out (n, 2, 4, length) uint8``."""
    pair = np.empty((2, length), dtype=np.uint8)
    dummy = np.empty(1, dtype=np.int64)
    found = np.empty(256, dtype=np.int64)
    bits = np.empty(256, dtype=np.int64)
    for i in range(lo, hi):
        n = 0
        if use_variants:
            n = _substitutions(S, contigs[i], samples[i], starts[i], length, indels, found, bits)
        if n >= 0:
            _substituted_pair(S, contigs[i], starts[i], length, n, found, bits, pair)
        else:
            _haplotype_pair(S, contigs[i], samples[i], starts[i], length, mode, use_variants,
                            indels, pair, dummy)  # fmt: skip
        for h in range(2):
            hap = pair[h]
            for c in range(4):
                row = out[i, h, 3 - c] if reverse else out[i, h, c]
                if reverse:
                    for j in range(length):
                        row[j] = np.uint8(hap[length - 1 - j] == c)
                else:
                    for j in range(length):
                        row[j] = np.uint8(hap[j] == c)


@numba.njit(nogil=True, cache=True)
def fill_allele_context(S, samples, contigs, pos0, ref_len, half, width, lo, hi, out):
    """Both haplotypes around each variant ``[lo, hi)`` with its REF span cut out, into
    ``out (n, 2, width) uint8``: ``out[i, h, :half]`` are the last `half` bases attributed
    before ``pos0[i]``, ``out[i, h, half:half + r]`` the reference REF bases, and the rest
    the bases attributed at or after ``pos0[i] + r`` (``r = ref_len[i]``)."""
    ref, ref_offset, ref_length = S[0], S[1], S[2]
    dummy = np.empty(1, dtype=np.int64)
    want_pos = False
    on = True
    for i in range(lo, hi):
        c = contigs[i]
        r = ref_len[i]
        for h in range(2):
            hap = 2 * samples[i] + h
            row = out[i, h]
            _backward(S, c, hap, pos0[i], half, on, on, row, dummy, want_pos)
            for k in range(r):
                row[half + k] = _ref_code(ref, ref_offset[c], ref_length[c], pos0[i] + k)
            _forward(
                S, c, hap, pos0[i] + r, width - half - r, on, on, row[half + r :], dummy,
                want_pos,
            )  # fmt: skip


@numba.njit(nogil=True, cache=True)
def fill_two_hot_grouped(
    S, samples, contigs, starts, length, mode, use_variants, indels, reverse, template_of,
    templates, order, lo, hi, out,
):  # fmt: skip
    """`fill_two_hot` for windows that repeat across samples (bulk reads).

    ``templates (k, 4, length) uint8`` are the reference's two-hot windows (reverse
    complemented with `reverse`), ``template_of (n,) int64`` each request's template and
    ``order (n,) int64`` the requests grouped by template; requests ``order[lo:hi]`` are
    written. Each group's requests start as copies of their template; then every variant
    near the window is read once for the whole group: a dense row bit by bit for the
    group's samples, a carrier list by walking it (or, when the list is much longer than
    the group, by a search per sample), and each carried substitution is patched in. A
    request whose person carries a length change near the window (with `indels`), or
    whose sample appears twice in the group, is built base by base instead.
    """
    positions, ref_len, alt_offsets, var_hi = S[6], S[7], S[8], S[4]
    gt_kind, gt_offsets, gt_haps = S[10], S[11], S[12]
    n_samples = 0
    for k in range(lo, hi):
        n_samples = max(n_samples, samples[order[k]] + 1)
    flat = out.reshape(out.shape[0], 4 * length)
    flat_templates = templates.reshape(templates.shape[0], 4 * length)
    slot = np.full(n_samples, -1, dtype=np.int64)
    slow = np.zeros(hi - lo, dtype=np.bool_)
    pair = np.empty((2, length), dtype=np.uint8)
    dummy = np.empty(1, dtype=np.int64)
    a = lo
    while a < hi:
        t = template_of[order[a]]
        b = a + 1
        while b < hi and template_of[order[b]] == t:
            b += 1
        first = order[a]
        c = contigs[first]
        start = starts[first]
        for k in range(a, b):
            _copy(flat[order[k]], flat_templates[t])
            slow[k - lo] = False
        if use_variants:
            for k in range(a, b):
                s = samples[order[k]]
                if slot[s] >= 0:
                    slow[k - lo] = True  # the same sample twice in the group
                else:
                    slot[s] = k
            v = _first_near(S, c, start)
            while v < var_hi[c] and positions[v] < start + length:
                length_change = ref_len[v] != alt_offsets[v + 1] - alt_offsets[v]
                if length_change and not indels:
                    v += 1
                    continue
                kind = gt_kind[v]
                listed = gt_offsets[v + 1] - gt_offsets[v]
                if kind == 0 and listed <= 8 * (b - a):
                    for e in range(gt_offsets[v], gt_offsets[v + 1]):
                        hap = np.int64(gt_haps[e])
                        if (hap >> 1) >= n_samples:  # a sample no request of the call names
                            continue
                        k = slot[hap >> 1]
                        if k < 0 or slow[k - lo]:
                            continue
                        if length_change:
                            slow[k - lo] = True
                        else:
                            _patch(S, c, start, length, v, 1 + (hap & 1), reverse,
                                   out[order[k]])  # fmt: skip
                else:
                    for k in range(a, b):
                        if slow[k - lo]:
                            continue
                        got = _carries_pair(S, v, samples[order[k]])
                        if got == 0:
                            continue
                        if length_change:
                            slow[k - lo] = True
                        else:
                            _patch(S, c, start, length, v, got, reverse, out[order[k]])
                v += 1
            for k in range(a, b):
                s = samples[order[k]]
                if slot[s] == k:
                    slot[s] = -1
        for k in range(a, b):
            if slow[k - lo]:
                i = order[k]
                _haplotype_pair(S, c, samples[i], start, length, mode, use_variants, indels, pair,
                                dummy)  # fmt: skip
                _encode_pair(pair[0], pair[1], reverse, out[i])
        a = b


def fill_haplotype_codes(
    ref, ref_offset, ref_length, var_lo, var_hi, positions, alleles, genotypes,
    samples, contigs, starts, use_variants, out,
):  # fmt: skip
    """The previous release's entry point (SNVs as ``alleles (n, 2)`` and dense
    ``genotypes (n, 2, n_bytes)``): base codes of both haplotypes into ``out (n, 2,
    length) uint8``. New code calls `fill_codes` with a store tuple."""
    n = positions.shape[0]
    S = (
        ref, ref_offset, ref_length, var_lo, var_hi, np.ones(ref_offset.shape[0], np.int64),
        positions, np.ones(n, np.int32), np.arange(n + 1, dtype=np.int64),
        np.ascontiguousarray(alleles[:, 1]), np.full(n, 2, np.uint8), np.zeros(n + 1, np.int64),
        np.zeros(0, np.uint16), np.arange(n, dtype=np.int32), genotypes,
    )  # fmt: skip
    pos = np.empty((1, 2, 1), dtype=np.int64)
    indels, want_pos = True, False
    fill_codes(
        S, samples, contigs, starts, out.shape[2], MODE_START, use_variants, indels, 0,
        out.shape[0], out, pos, want_pos,
    )  # fmt: skip
