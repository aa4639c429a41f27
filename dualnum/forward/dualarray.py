"""An array of dual numbers: ``value`` (shape S) plus ``partials`` (shape (k,) + S), one slice per direction.

Ordinary numpy code runs on it through numpy's protocols: ``__array_ufunc__`` sends every ufunc to the rule
of the same name in :mod:`dualnum.rules` (value = f(x), partials = f'(x) · partials, the chain rule), and
``__array_function__`` handles reductions, ``@``/``dot``, reshaping, indexing, joining and the rest. A numpy
function without a rule raises ``TypeError`` naming it; nothing ever drops a derivative silently.

An elementwise result may be *pending* (:mod:`dualnum.backends.fusion`): it is computed, fused with the operations
that follow it, when its ``value`` or ``partials`` is first read -- which every handler below does.

``value`` and ``partials`` are plain float arrays, or DualArrays of an older tag when duals are nested
(forward-over-forward: Hessians). Every operation below is written once, generically, so nesting works at
any depth: the value of a nested array is itself a DualArray, and numpy dispatch recurses into it.
"""
from __future__ import annotations

import math
import numbers
import operator
import weakref
from time import perf_counter

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from ..backends import fusion, kernels
from .. import linear, rules
from .._numpy.arraymethods import ArrayMethods
from .._numpy.composites import make as _composites, prod
from .dual import Dual, _scal, primal
from .._numpy.protocol import fname as _fname, registrar as _registrar, index_trick as _index_trick, ndim_of as _ndim, no_out as _no_out, \
    normalize_axes as _axes, shape_of as _shape, ufunc_extra as _ufunc_extra, \
    ufunc_reduce as _ufunc_reduce

HANDLED = {}  # numpy function -> handler(*args, **kwargs)

#: number types that wrap DualArrays (the tracker's Tracked, for forward-over-reverse): an operation that meets
#: one is theirs to record, so DualArray steps aside (NotImplemented) and numpy asks them next
DEFER_TO: set = set()


implements = _registrar(HANDLED)


def unsupported(name, why="dualnum has no derivative rule for it"):
    return TypeError(f"{name} is not supported in forward mode (DualArray): {why}. Derivatives are never "
                     "dropped silently; rewrite the code with supported numpy functions, or add a rule to "
                     "dualnum/rules.py (ufuncs), a gather to dualnum/linear.py or a jvp and vjp to "
                     "dualnum/primitive.py's table.")


def as_constant(a, where="DualArray operation"):
    """A non-dual operand as something numpy can compute with; strings, None and complex are refused."""
    if isinstance(a, (float, int, np.floating, np.integer, np.bool_)) and not isinstance(a, np.ndarray):
        return a
    if type(a) in DEFER_TO:  # never np.asarray() a tracked value: idle, it is its data; active, a constant here
        from ..reverse.tracked import peel_idle
        a = peel_idle(a)
        if type(a) in DEFER_TO or isinstance(a, DualArray) or type(a) is Dual:
            return a
    if isinstance(a, np.ndarray) and a.dtype.kind in "biuf":
        return a
    if getattr(a, "_is_device", False):  # a GPU array (dualnum/backends/cuda): computed where it lies
        return a
    if isinstance(a, (str, bytes)) or a is None:
        raise TypeError(f"{where}: cannot compute with {type(a).__name__} {a!r}; expected numbers")
    if isinstance(a, numbers.Complex) and not isinstance(a, numbers.Real):
        raise TypeError(f"{where}: complex numbers are not supported (got {a!r})")
    arr = np.asarray(a)
    if arr.dtype == object and arr.size and any(type(e) is Dual or isinstance(e, DualArray) for e in arr.flat):
        return from_objects(arr)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{where}: expected numbers, got an array of dtype {arr.dtype}")
    return arr


def from_objects(arr):
    """An object array of Duals and numbers (what np.array([x[0] * x[1], x[1] ** 2]) builds) as a DualArray."""
    arr = np.asarray(arr, dtype=object)
    items = [lift(e) if type(e) is Dual else e if isinstance(e, DualArray) else np.asarray(float(e))
             for e in arr.flat]
    return np.reshape(_stack(items, axis=0), arr.shape)


class DualArray(ArrayMethods, NDArrayOperatorsMixin):
    """``DualArray(value, partials)``: partials has shape ``(k,) + value.shape`` (or ``value.shape`` for k = 1)."""

    # _v/_p hold value and partials once computed; _lazy holds a pending fused expression until then
    # (dualnum/backends/fusion.py): reading .value or .partials computes it, so laziness is invisible to every caller
    # _base (unset unless used): (base, how to remake this view from it) for a view of read-only memory (_link)
    __slots__ = ("_v", "_p", "tag", "_lazy", "_base", "__weakref__")
    _is_dualarray = True
    _scalar_name = "0-d DualArray"

    def __init__(self, value, partials=None, tag: int = 0):
        if getattr(value, "_is_device", False) or getattr(partials, "_is_device", False):
            from ..backends.cuda.duals import device_pair  # GPU arrays stay where they are
            value, partials = device_pair(value, partials)
        elif not isinstance(value, DualArray):
            value = np.array(as_constant(value, "DualArray value"), dtype=float)
        if partials is None:  # a constant: k = 0 partials, read as zeros in whatever k it meets (_top)
            partials = np.zeros((0,) + _shape(value))
        elif not isinstance(partials, DualArray) and not getattr(partials, "_is_device", False):
            partials = np.array(as_constant(partials, "DualArray partials"), dtype=float)
        if _shape(partials) == _shape(value) and _ndim(partials) != _ndim(value) + 1:
            partials = partials[None]
        if _shape(partials)[1:] != _shape(value):
            raise ValueError(f"DualArray partials must have shape (k,) + {_shape(value)}, "
                             f"got {_shape(partials)}")
        self._v, self._p, self.tag, self._lazy = value, partials, int(tag), None

    @staticmethod
    def _new(value, partials, tag):
        d = object.__new__(DualArray)
        d._v, d._p, d.tag, d._lazy = value, partials, tag, None
        return d

    @property
    def value(self):
        """The primal values: a float array (or, nested, a DualArray of an older tag)."""
        if self._lazy is not None:
            _force(self)
        return self._v

    @value.setter
    def value(self, v):
        if self._lazy is not None:
            _force(self)
        self._v = v

    @property
    def partials(self):
        """The k directional derivatives, shape (k,) + value.shape."""
        if self._lazy is not None:
            _force(self)
        return self._p

    @partials.setter
    def partials(self, p):
        if self._lazy is not None:
            _force(self)
        self._p = p

    # ---- array attributes (a pending expression knows its shape without being computed) ---------------------
    shape = property(lambda self: self._lazy.shape if self._lazy is not None else _shape(self._v))
    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))
    dtype = property(lambda self: self._v.dtype if self._lazy is None else
                     np.dtype(np.float64) if type(self._lazy) is fusion.Node else self._lazy.dtype)
    npartials = property(lambda self: self._lazy.k if self._lazy is not None else _shape(self._p)[0],
                         doc="k, the number of seeded directions")

    def __repr__(self):
        return f"DualArray({self.value!r}, partials={self.partials!r}, tag={self.tag})".replace("\n", "\n  ")

    def __array__(self, dtype=None, copy=None):
        if self.shape == () and (dtype is None or np.dtype(dtype) == object):
            # one number is kept whole, as a Dual in an object array: np.array([np.sum(x), x[0]]) is an array of
            # dual numbers (joined into a DualArray where it meets one), as for the tracker's scalars
            box = np.empty((), dtype=object)
            box[()] = _to_scalar(self)
            return box
        raise TypeError(
            "np.asarray() of a DualArray would drop its derivatives (this also happens when a DualArray is "
            "written into a plain float array, or passed to code that needs plain floats). Keep it a DualArray: "
            "build arrays with np.stack/np.concatenate/np.where; use dualnum.value(x) or x.value if you "
            "really want the values without derivatives." + _index_trick())

    def __float__(self):
        if self.size != 1:
            raise TypeError(f"only size-1 DualArrays can be converted to float, this has shape {self.shape} (a "
                            "DualArray cannot go into a plain float array: it would drop the derivatives; build "
                            "arrays with np.stack/np.concatenate/np.where)")
        return float(self.reshape(())[()]) if self.ndim else float(_to_scalar(self))

    def __bool__(self):
        return bool(primal(self))

    def __reduce__(self):  # pickle and copy see the computed arrays, never a pending expression
        return DualArray._new, (self.value, self.partials, self.tag)

    def __hash__(self):  # mutable, like ndarray
        raise TypeError("unhashable type: 'DualArray'")

    def item(self):
        return _scalar(self.reshape(())) if self.size == 1 else self.__float__()

    # ---- arithmetic straight to the rules (the mixin's route through np.multiply costs a microsecond more) ----
    def _op(rule, reflected=False):
        def op(self, other):
            if fusion.ENABLED and kernels.ENABLED and fusion.FUSABLE.get(rule.name) is rule:  # pending: computed,
                # fused, when first read (the identity check: a rule registered again is not fused as the old)
                z = fusion.binary(rule, other, self) if reflected else fusion.binary(rule, self, other)
                if z is not None:
                    return z
            if type(other) in DEFER_TO:  # a tracked operand: the levels decide who computes (_levels)
                other = _levels((self, other))
                if other is NotImplemented:
                    return NotImplemented
                other = other[1]
            return _eval_rule(rule, [_const(other), self] if reflected else [self, _const(other)])
        op.__name__ = f"__{'r' if reflected else ''}{rule.name}__"
        return op

    __add__, __radd__ = _op(rules.RULES["add"]), _op(rules.RULES["add"], True)
    __sub__, __rsub__ = _op(rules.RULES["subtract"]), _op(rules.RULES["subtract"], True)
    __mul__, __rmul__ = _op(rules.RULES["multiply"]), _op(rules.RULES["multiply"], True)
    __truediv__, __rtruediv__ = _op(rules.RULES["true_divide"]), _op(rules.RULES["true_divide"], True)
    del _op

    def __pow__(self, other):
        if (type(other) is int or type(other) is float) and other in _POWER_SHORTCUTS:  # x**2: the hot path
            return apply_rule(rules.RULES[_POWER_SHORTCUTS[other]], (self,))
        return dispatch_ufunc(np.power, "__call__", (self, other), {})  # (it applies the levels rule)

    # ---- in place: y += 1 writes into y (views of y see it), with numpy's rule that the result fits y ---------
    def _inplace(op, sym):
        def iop(self, other):
            if type(other) in DEFER_TO and _levels((self, other)) is NotImplemented:
                return NotImplemented  # the tracker records y + t at its outer level; Python rebinds y
            return _assign_into(self, op(self, other), f"y {sym} z", f"y = y {sym[:-1]} z")
        iop.__name__ = f"__i{op.__name__.strip('_')}__"
        return iop

    __iadd__, __isub__ = _inplace(operator.add, "+="), _inplace(operator.sub, "-=")
    __imul__, __itruediv__ = _inplace(operator.mul, "*="), _inplace(operator.truediv, "/=")
    __ipow__, __imatmul__ = _inplace(operator.pow, "**="), _inplace(operator.matmul, "@=")
    __ifloordiv__, __imod__ = _inplace(operator.floordiv, "//="), _inplace(operator.mod, "%=")
    del _inplace

    def __neg__(self):
        return apply_rule(rules.RULES["negative"], (self,))

    # ---- numpy protocols -------------------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.sum and self._lazy is not None and not kwargs and len(args) == 1 and args[0] is self:
            s = _sum_all(self)  # np.sum(pending expression): the fused loop accumulates, nothing stored
            if s is not None:
                return s
        if DEFER_TO and not DEFER_TO.isdisjoint(types):
            args = _levels(args + (kwargs,))
            if args is NotImplemented:
                return NotImplemented
            args, kwargs = tuple(args[:-1]), args[-1]
        return dispatch_function(func, args, kwargs)

    # ---- indexing --------------------------------------------------------------------------------------------
    def __getitem__(self, idx):
        if type(idx) is slice and self._lazy is None and type(self._v) is np.ndarray and self._v.ndim:
            v, p = self._v, self._p
            d = object.__new__(DualArray)  # x[1:]: the hot path
            d._v, d._p, d.tag, d._lazy = v[idx], p[:, idx], self.tag, None
            if not (type(v) is np.ndarray and (v.base is None or v.flags.writeable) and type(p) is np.ndarray
                    and (p.base is None or p.flags.writeable)):  # (an array owning its memory is writable)
                _remember(self, d, _remake_slice, idx)  # read-only memory: see _link
            return d
        idx = _clean_index(idx)
        view = _makes_view(idx)
        v = self.value[idx]
        p = _index_partials(self.partials, idx, _shape(v))
        if _ndim(v) == 0:
            return Dual._new(_scal(v), tuple(_scal(e) for e in _iter_partials(p)), self.tag)
        d = DualArray._new(v, p, self.tag)
        if view:
            _link(self, d, _remake_item, idx)
        return d

    def __setitem__(self, idx, val):
        idx = _clean_index(idx)
        if type(val) is not DualArray and type(val) is not Dual:
            val = as_constant(val, "DualArray assignment")  # (a list or object array of duals: a DualArray)
        if type(val) is Dual:
            val = lift(val)
        fusion.force_all()  # a pending expression may read this array's old contents: compute it first
        if _DEVICE_FUSION[0] is not None:
            _DEVICE_FUSION[0].force_all()
        if isinstance(val, DualArray) and val.tag > self.tag:
            raise TypeError("cannot store a dual number of an inner differentiation into this DualArray in "
                            "place; build a new array instead (np.where, np.concatenate, np.stack)")
        self._make_writable()
        tidx = idx if isinstance(idx, tuple) else (idx,)
        target_nd = _ndim(self.value[idx])
        if isinstance(val, DualArray) and val.tag == self.tag:
            p, k, kv = val.partials, self.npartials, val.npartials
            if kv != k:  # a constant DualArray(c) has k = 0 partials: zeros in any k
                if k and kv:
                    raise ValueError(f"cannot store a DualArray with {kv} partials into one with {k}: seed every "
                                     "input of one differentiation with the same directions")
                if not k:
                    self.partials = np.zeros((kv,) + self.shape)
            self._hold("value", val.value)[idx] = val.value
            if kv:
                self._hold("partials", p)[(slice(None),) + tidx] = _expand(p, target_nd)
        else:
            v = val if isinstance(val, DualArray) else as_constant(val, "DualArray assignment")
            self._hold("value", v)[idx] = v
            self.partials[(slice(None),) + tidx] = 0.0

    def _hold(self, name, x):
        """self.value or self.partials, made able to store x: a plain array that receives a dual of an older tag
        (nested differentiation: y += x**2 inside a Hessian) becomes a DualArray of that tag, zero partials."""
        a = getattr(self, name)
        if type(a) is np.ndarray and isinstance(x, DualArray):
            root = self
            while getattr(root, "_base", None) is not None:
                root = root._base[0]
            if root is not self:  # a view (v = y[::2]; v *= v): the inner level goes to its base, which every
                # view of it then shares, this one included (else the base would never see the write's level)
                r = getattr(root, name)
                if type(r) is np.ndarray:
                    setattr(root, name, DualArray._new(r, np.zeros((x.npartials,) + r.shape), x.tag))
                    _repoint(root)
                a = getattr(self, name)
                if type(a) is not np.ndarray:
                    return a
            a = DualArray._new(a, np.zeros((x.npartials,) + a.shape), x.tag)
            setattr(self, name, a)
            _repoint(self)  # the views of a nested dual are remembered (_link): they share the new inner level
        return a

    def _make_writable(self):
        """Before a write: copy read-only buffers (an input's, or partials shared with another result), and
        re-point the views made of them (_link) into the copies, so that they see the write, as numpy's do."""
        root = self
        while getattr(root, "_base", None) is not None:
            root = root._base[0]
        for name in ("value", "partials"):
            a = getattr(root, name)
            if isinstance(a, np.ndarray) and not a.flags.writeable:
                setattr(root, name, a.copy())
        _repoint(root)
        if root is not self:
            for name in ("value", "partials"):  # (a view whose base was writable all along)
                a = getattr(self, name)
                if isinstance(a, np.ndarray) and not a.flags.writeable:
                    setattr(self, name, a.copy())

    # ---- numpy-style methods ---------------------------------------------------------------------------------
    def copy(self):
        return DualArray._new(self.value.copy(), self.partials.copy(), self.tag)

    def astype(self, dtype, copy=True):
        """The value and partials in another float type (float32: both rounded, as numpy rounds the value)."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"astype({dtype}) would drop the derivatives of a DualArray (not a float type); "
                            "use np.round/np.floor (derivative 0) or dualnum.value(x).astype(...) on purpose")
        v, p = self.value, self.partials
        if v.dtype == dtype and p.dtype == dtype and not copy:
            return self
        return DualArray._new(v.astype(dtype), p.astype(dtype), self.tag)  # (astype copies, as numpy's)


# =============================================================================================================
# conversions between levels
# =============================================================================================================

def lift(d):
    """A scalar Dual as a 0-d DualArray of the same tag (recursively for nested duals)."""
    v = d.value
    v = lift(v) if type(v) is Dual else np.asarray(float(v))
    ps = d.partials
    if any(type(p) is Dual for p in ps):
        parts = _stack_scalars(ps)
    else:
        parts = np.array(ps, dtype=float)
    return DualArray._new(v, parts, d.tag)


def _stack_scalars(xs):
    """A 1-d array (plain or DualArray) from a sequence of floats and Duals."""
    if not any(type(x) is Dual for x in xs):
        return np.array(xs, dtype=float)
    return _stack([lift(x) if type(x) is Dual else float(x) for x in xs], axis=0)


def _scalar(x):
    """0-d DualArray -> Dual; anything else unchanged."""
    if isinstance(x, DualArray) and x.ndim == 0:
        return _to_scalar(x)
    return x


def _to_scalar(x):
    v = x.value
    v = _to_scalar(v) if isinstance(v, DualArray) else _scal(v)
    return Dual._new(v, tuple(_scal(e) for e in _iter_partials(x.partials)), x.tag)


def scalar_if_0d(x):
    return _scalar(x)


def _iter_partials(p):
    if isinstance(p, DualArray):
        return iter(p)
    return iter(p.tolist())


def _expand(p, nd):
    """Partials (k,) + s re-shaped to (k,) + (1,)*(nd - len(s)) + s so they broadcast like their value."""
    s = _shape(p)[1:]
    if len(s) >= nd:
        return p
    return p.reshape((_shape(p)[0],) + (1,) * (nd - len(s)) + tuple(s))


def _parts(a, tag, nd, k):
    """a's partials at ``tag`` expanded to ``nd`` dims, or None if ``a`` is constant at that level (k = 0 too)."""
    if isinstance(a, DualArray) and a.tag == tag:
        p = a.partials
        if _shape(p)[0] != k:  # k = 0 (a constant, as _top checked) in an operation with k directions
            return None
        return _expand(p, nd)
    return None


def _top(args):
    """Lift scalar Duals; return (args, top tag, k).

    k is the number of partials of the DualArrays at the top tag. One with k = 0 (``DualArray(c)``) is a
    constant whose partials are zeros for any k; two different non-zero k at one tag are an error, never
    broadcast (a k = 1 partial spread over k directions would be a silently wrong derivative).
    """
    tag, k = None, 0
    for a in args:
        t = type(a)
        if t is DualArray:
            node = a._lazy
            ka = node.k if node is not None else a._p.shape[0]
            if tag is None or a.tag > tag:
                tag, k = a.tag, ka
            elif a.tag == tag and ka != k:
                if k == 0:
                    k = ka
                elif ka != 0:
                    raise ValueError(f"DualArrays with different numbers of partials meet in one operation: "
                                     f"k = {k} and k = {ka} (tag {tag}). Seed every input of one "
                                     "differentiation with the same k directions; build a constant without "
                                     "partials, DualArray(c), and it joins any k as zeros.")
        elif t is Dual:
            return _top([lift(b) if type(b) is Dual else b for b in args])
    if tag is None:
        return args, -1, 0
    return args, tag, k


def _force(d):
    """Compute a pending DualArray: by the CPU's fused loops, or on the GPU (each records its own kind)."""
    node = d._lazy
    if type(node) is fusion.Node:
        fusion.force(d)
    else:
        node.force(d)


def _sum_all(d):
    node = d._lazy
    return fusion.sum_all(d) if type(node) is fusion.Node else node.sum_all(d)


_DEVICE_FUSION = [None]  # dualnum.backends.cuda.fusion, once a GPU expression has been made


def _device_fusion():
    m = _DEVICE_FUSION[0]
    if m is None:
        from ..backends.cuda import fusion as m
        m.bind(DualArray)
        _DEVICE_FUSION[0] = m
    return m


def _parts_at(a, tag, k):
    """a's k partials at ``tag``, or None where a is a constant there."""
    return a.partials if type(a) is DualArray and a.tag == tag and a.npartials == k else None


def _on_device(args):
    """The operation's values live on the GPU (the first dual operand decides; a host one beside it is refused
    there)."""
    for a in args:
        if type(a) is DualArray:
            v = a._v
            return getattr(v, "_is_device", False) if v is not None else type(a._lazy) is not fusion.Node
        if getattr(a, "_is_device", False):
            return True
    return False


def _val_any(a):
    return a.value if type(a) is DualArray else a


def _val(a, tag):
    return a.value if isinstance(a, DualArray) and a.tag == tag else a


def _const(a):
    t = type(a)
    if t is DualArray or t is Dual or t is float or (t is np.ndarray and a.dtype.kind == "f"):
        return a
    return as_constant(a)


# =============================================================================================================
# the chain rule for every rule in the table
# =============================================================================================================

def apply_rule(rule, args):
    """value = f(values); partials = Σᵢ ∂f/∂xᵢ · partialsᵢ over the arguments that carry the outermost tag."""
    if fusion.ENABLED and kernels.ENABLED and fusion.FUSABLE.get(rule.name) is rule:  # (a rule registered
        # again under its name is not the one the loops were written from)
        # pending: computed, fused with what follows, when first read
        z = fusion.unary(rule, args[0]) if len(args) == 1 else fusion.binary(rule, args[0], args[1])
        if z is not None:
            return z
    return _eval_rule(rule, [_const(a) for a in args])


def _eval_rule(rule, args):
    args, tag, k = _top(args)
    if rule.guarded:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _chain(rule, args, tag, k)
    return _chain(rule, args, tag, k)


def _chain(rule, args, tag, k):
    # written for speed (this runs for every operation on every DualArray): locals, no helper calls
    if _on_device(args):  # GPU arrays: pending in a fused tree, or the rule's dual kernel, one launch
        z = _device_fusion().pending(rule, args, tag, k)
        if z is not None:
            return z
        from ..backends.cuda import duals
        vals = [a.value if type(a) is DualArray and a.tag == tag else a for a in args]
        z, pz = duals.apply(rule, vals, [_parts_at(a, tag, k) for a in args], k)
        return DualArray._new(z, pz, tag)
    vals = [a.value if type(a) is DualArray and a.tag == tag else a for a in args]
    if kernels.ENABLED and _big(vals, k):
        fast = kernels.try_apply(rule, args, vals, tag, k)  # the same rule, compiled: one fused pass
        if fast is not None:
            if type(fast) is kernels.Rent:  # not worth a compile yet: numpy computes it, and the time counts
                t0 = perf_counter()
                z = _chain_numpy(rule, args, vals, tag, k)
                fast.paid(perf_counter() - t0)
                return z
            return DualArray._new(fast[0], fast[1], tag)
    return _chain_numpy(rule, args, vals, tag, k)


def _chain_numpy(rule, args, vals, tag, k):
    f = rule.f
    out = f(*vals) if type(f) is np.ufunc else rules.evaluate(f, *vals)  # (Python arithmetic on a scalar)
    if type(out) is not np.ndarray:
        out = _as_array(out)
    shape = out.shape
    nd = len(shape)
    acc = None
    borrowed = False  # acc is an input's own partials (d = 1)
    computed = False  # a local derivative was computed: it may be inf or NaN
    if k and not rule.zero:
        partials, nondiff = rule.partials, rule.nondiff
        for i, a in enumerate(args):
            if type(a) is not DualArray or a.tag != tag or i in nondiff:
                continue
            p = a.partials
            if p.shape[0] != k:  # k = 0: a constant (_top allows no other mismatch)
                continue
            if len(p.shape) <= nd:  # fewer dimensions than the output: line them up from the right
                p = _expand(p, nd)
            d = partials[i]
            if callable(d):
                d = rules.evaluate(d, *vals, out)  # 1.0 / y with y a Python 0.0: inf, as numpy, not an error
                term = d * p
                computed = True
            elif d == 1.0:
                term = p
            elif d == -1.0:
                term = -p
            elif d == 0.0:
                continue  # a zero derivative contributes nothing, even times an inf partial
            else:
                term = d * p
            borrowed = acc is None and term is p
            acc = term if acc is None else acc + term
    if computed and type(acc) is np.ndarray and acc.size and (m := np.minimum.reduce(acc, None)) != m:
        acc = _nan_safe_sum(rule, args, vals, out, tag, nd)  # a NaN (rare): one reduction, no copy, finds it
    full = (k,) + shape
    if acc is None:
        acc = np.zeros(full)
    elif borrowed:
        # y = a + 1 is not a view of a: it may share a's partials only if a cannot write into them (read-only
        # memory is copied by a write, __setitem__); a's own writable partials are copied
        acc = readonly(acc) if type(acc) is not np.ndarray or not acc.flags.writeable else acc.copy()
    if acc.shape != full:
        acc = np.broadcast_to(acc, full)
    return DualArray._new(out, acc, tag)


fusion.bind(DualArray, _eval_rule)


def _nan_safe_sum(rule, args, vals, out, tag, nd):
    """_chain's sum of terms again, each computed by _nan_safe: only when the plain sum holds a NaN."""
    acc = None
    for i, a in enumerate(args):
        if type(a) is not DualArray or a.tag != tag or i in rule.nondiff or a.partials.shape[0] == 0:
            continue
        p = a.partials
        if len(p.shape) <= nd:
            p = _expand(p, nd)
        d = rule.partials[i]
        if callable(d):
            d = rules.evaluate(d, *vals, out)
        elif d == 0.0:
            continue
        term = _nan_safe(d, p, d * p)
        acc = term if acc is None else acc + term
    return acc


def _nan_safe(d, p, term):
    """The chain rule's term d·p, but 0 where d == 0 or p == 0 (ForwardDiff's NaN-safe mode).

    An inf or NaN local derivative then stays in the directions that pass through it (sqrt at 0 in
    d/dx₀ does not reach d/dx₁), and a zero local derivative (the branch np.where does not select)
    silences an inf or NaN partial. Plain float arrays only: nested levels are fixed by their own _chain.
    """
    if not (type(d) is np.ndarray or isinstance(d, float)) or type(p) is not np.ndarray:
        return term
    return np.where((d == 0) | (p == 0), 0.0, term)


def readonly(a):
    """A read-only view: shared data is safe, because __setitem__ copies a read-only array before writing."""
    if not isinstance(a, np.ndarray):
        return a.copy()  # a nested DualArray: no read-only flag to lean on
    a = a.view()
    a.setflags(write=False)  # (a.flags.writeable = False builds a flags object first: twice the time)
    return a


def _big(vals, k):
    for v in vals:
        if type(v) is np.ndarray and v.size * (k + 1) >= kernels.MIN_SIZE:
            return True
    if len(vals) == 2:  # small operands can broadcast to a big result (an outer product): at most the product
        a, b = vals
        return type(a) is np.ndarray and type(b) is np.ndarray and a.shape != b.shape and \
            a.size * b.size * (k + 1) >= kernels.MIN_SIZE
    return False


# ---- views of read-only memory ------------------------------------------------------------------------------
# A view (x[1:], x.T, reshape) shares its base's memory, so an in-place write into either is seen by both, as
# in numpy. Read-only memory (an input's, partials shared with another result) is copied by the first write
# (_make_writable): its views are remembered here, weakly, and re-pointed into the copy then. So are the views
# of nested duals (a Hessian's), whose plain value or partials a write of an inner dual turns into a dual of
# that inner level (_hold). Nothing is copied or remembered for plain writable memory, and nothing at all until
# a write.

def _link(base, view, remake, arg):
    """Remember ``view`` (value and partials = ``remake(base, arg)``) if it shares read-only memory of ``base``
    or ``base`` is a nested dual."""
    v, p = base._v, base._p
    if type(v) is np.ndarray and (v.base is None or v.flags.writeable) and type(p) is np.ndarray and \
            (p.base is None or p.flags.writeable) and getattr(base, "_base", None) is None:
        return
    _remember(base, view, remake, arg)


_VIEWS: dict = {}  # id(base) -> (weak reference to base, [weak references to its views of read-only memory])


def _remember(base, view, remake, arg):
    entry = _VIEWS.get(id(base))
    if entry is None or entry[0]() is not base:
        if len(_VIEWS) > 256:  # forget the bases that are gone
            for key, e in list(_VIEWS.items()):  # (list(): one step, safe beside other threads)
                if e[0]() is None:
                    _VIEWS.pop(key, None)
        entry = _VIEWS[id(base)] = (weakref.ref(base), [])
    elif len(entry[1]) > 64:
        entry[1][:] = [w for w in entry[1] if w() is not None]
    entry[1].append(weakref.ref(view))
    view._base = (base, remake, arg)


def _remake_slice(b, idx):
    return b._v[idx], b._p[:, idx]


def _remake_item(b, idx):
    v = b.value[idx]
    return v, _index_partials(b.partials, idx, _shape(v))


def _remake_structural(b, fs):
    return fs[0](b.value), fs[1](b.partials)


def _remake_reshape(b, shape):
    v = np.reshape(b.value, shape)
    return v, np.reshape(b.partials, (_shape(b.partials)[0],) + _shape(v))


def _repoint(a):
    """After a's buffers were copied or given an inner level: each live view of it takes its memory from them
    (and so on down). A nested dual keeps its views remembered: a later write may give it an inner level again."""
    entry = _VIEWS.pop(id(a), None)
    if entry is None or entry[0]() is not a:
        return
    keep = type(a._v) is not np.ndarray or type(a._p) is not np.ndarray
    for w in entry[1]:
        d = w()
        if d is not None and getattr(d, "_base", None) is not None and d._base[0] is a:
            d._v, d._p = d._base[1](a, d._base[2])
            if not keep:
                d._base = None
            _repoint(d)
    if keep:
        _VIEWS[id(a)] = entry


def _makes_view(idx):
    """Basic indexing (ints, slices, None, ...) gives a view; a fancy index copies."""
    for i in (idx if type(idx) is tuple else (idx,)):
        if not (i is None or i is Ellipsis or type(i) is slice or isinstance(i, (int, np.integer))):
            return False
    return True


def _assign_into(y, r, what, instead):
    """``y op= z``: the result r written into y (numpy's rule: r must have y's shape, broadcasting z only)."""
    if type(r) is Dual:
        r = lift(r)
    if not isinstance(r, DualArray):
        raise TypeError(f"{what}: the result is a {type(r).__name__}, which a DualArray cannot hold; "
                        f"write {instead}")
    if r.shape != y.shape:
        raise ValueError(f"non-broadcastable output operand with shape {y.shape} doesn't match the broadcast "
                         f"shape {r.shape} (in {what})")
    if r.tag > y.tag:
        raise TypeError(f"{what}: the result carries the derivatives of an inner differentiation (tag {r.tag}) "
                        f"that y (tag {y.tag}) cannot hold in place; write {instead}")
    y[...] = r
    return y


def _as_array(out):
    if isinstance(out, DualArray) or type(out) in DEFER_TO:  # (a tracked value of an older, active level)
        return out
    if type(out) is Dual:
        return lift(out)
    if getattr(out, "_is_device", False):
        return out
    return np.asarray(out, dtype=float)


# ---- levels: dual numbers meet tracked values (the tracker's Tracked, registered in DEFER_TO) ---------------
# Every differentiation call, forward or reverse, draws its tag from one counter, so tags order all levels.
# A tracked value nobody differentiates now (an nn weight outside tracker.gradient) is just its data; otherwise
# the operand with the larger tag is the outer level and computes, the others are its constants.

def _levels(args):
    """``args`` with inactive tracked layers stripped, or NotImplemented when an active tracked operand has a
    larger tag than every dual operand: the tracker records that operation (its data holds the duals). An active
    tracked operand of a smaller tag (reverse-over-forward) stays: a constant at the duals' level, which the
    rule's formulas then compute with, so the tracker records its own level inside them."""
    from ..reverse.tracked import peel_idle  # (tracked.py imports this module)

    def strip(a):
        t = type(a)
        if t in DEFER_TO:
            return peel_idle(a)
        if t is list or t is tuple:
            return t(strip(e) for e in a)
        if t is dict:
            return {k: strip(v) for k, v in a.items()}
        return a
    args = [strip(a) for a in args]
    top, tracked = -1, []

    def scan(a):
        nonlocal top
        t = type(a)
        if t is DualArray or t is Dual:
            top = max(top, a.tag)
        elif t in DEFER_TO:
            tracked.append(a)
        elif t is list or t is tuple:
            for e in a:
                scan(e)
        elif t is dict:
            for e in a.values():
                scan(e)
    for a in args:
        scan(a)
    if any(t._tag > top for t in tracked):
        return NotImplemented
    return args


def dispatch_ufunc(ufunc, method, inputs, kwargs):
    for a in inputs:
        if type(a) in DEFER_TO:
            inputs = _levels(inputs)
            if inputs is NotImplemented:
                return NotImplemented
            break
    if method == "__call__" and not kwargs:  # the hot path: x * y, np.sin(x)
        r = rules.BY_FUNCTION.get(ufunc)
        if r is not None and not (ufunc is np.power and _is_number(inputs[1])):
            return apply_rule(r, inputs)
    name = f"np.{ufunc.__name__}"
    out = kwargs.get("out")
    if out is not None:
        y = out[0] if type(out) is tuple and len(out) == 1 else out
        if type(y) is DualArray and method == "__call__":  # np.add(y, 1, out=y): in place, as y += 1
            r = dispatch_ufunc(ufunc, method, inputs, {k: v for k, v in kwargs.items() if k != "out"})
            return r if r is NotImplemented else _assign_into(y, r, f"{name}(..., out=y)", f"y = {name}(...)")
        _no_out(name, out)  # a plain array cannot hold derivatives
    if method == "__call__" and ufunc in _GUFUNCS:  # numpy 2's vecdot, matvec, vecmat: contractions
        return _GUFUNCS[ufunc](*inputs, **kwargs)
    extra = _ufunc_extra(kwargs)
    if method == "reduce":
        return _ufunc_reduce(ufunc, {np.add: _sum, np.multiply: prod, np.maximum: HANDLED[np.max],
                                     np.minimum: HANDLED[np.min]}, inputs, kwargs, unsupported)
    if method != "__call__":
        raise unsupported(f"{name}.{method}")
    if ufunc in rules.VALUE_ONLY:
        return ufunc(*[primal(_scalar(a)) if not isinstance(a, np.ndarray) else a for a in inputs], **extra)
    if extra:
        raise TypeError(f"{name} on a DualArray does not take {', '.join(extra)}")
    if ufunc is np.matmul:
        return _matmul(*inputs)
    if ufunc is np.power and _is_number(inputs[1]) and float(inputs[1]) in _POWER_SHORTCUTS:
        # x**2 is square(x), as numpy itself does it: the same derivative, without a pow() per element
        return apply_rule(rules.RULES[_POWER_SHORTCUTS[float(inputs[1])]], inputs[:1])
    r = rules.lookup(ufunc)
    if r is None:
        raise unsupported(name)
    return apply_rule(r, inputs)


_POWER_SHORTCUTS = {2.0: "square", 0.5: "sqrt", -1.0: "reciprocal", 1.0: "positive"}


def _is_number(a):
    return isinstance(a, (int, float, np.integer, np.floating)) and not isinstance(a, bool)


def dispatch_function(func, args, kwargs):
    h = HANDLED.get(func)
    if h is not None:
        return h(*args, **kwargs)
    r = rules.BY_FUNCTION.get(func)  # e.g. np.round (rint's rule), np.fix (trunc's rule)
    if r is not None and r.arity == 1:
        if r.zero:
            return _zero_derivative(func, args, kwargs)
        if kwargs:
            raise TypeError(f"{_fname(func)} on a DualArray does not take {', '.join(kwargs)}")
        return apply_rule(r, args)
    raise unsupported(_fname(func))


def _zero_derivative(func, args, kwargs):
    a, rest = args[0], args[1:]
    args2, tag, k = _top([a])
    a = args2[0]
    v = func(_val(a, tag), *rest, **kwargs)
    return DualArray._new(_as_array(v), np.zeros((k,) + _shape(v)), tag)


# =============================================================================================================
# matrix products: d(AB) = dA·B + A·dB
# =============================================================================================================

@implements(np.matmul)
def _matmul(a, b):
    if getattr(_val_any(a), "_is_device", False) or getattr(_val_any(b), "_is_device", False):
        from ..backends.cuda import duals  # GPU arrays: value and every direction in one launch
        (a, b), tag, k = _top([a, b])
        z, pz = duals.matmul(_val(a, tag), _parts_at(a, tag, k), _val(b, tag), _parts_at(b, tag, k), k)
        return DualArray._new(z, pz, tag)
    (a, b), tag, k = _top([_const(a), _const(b)])
    if _ndim(a) == 0 or _ndim(b) == 0:
        raise ValueError("matmul: input operand does not have enough dimensions (use * for scalars)")
    av, bv = _val(a, tag), _val(b, tag)
    out = np.matmul(av, bv)
    a_vec, b_vec = _ndim(av) == 1, _ndim(bv) == 1
    A = av[None, :] if a_vec else av  # promote vectors to matrices, as matmul does, then undo
    B = bv[:, None] if b_vec else bv
    nd = max(_ndim(A), _ndim(B))
    acc = None
    pa, pb = _parts(a, tag, 0, k), _parts(b, tag, 0, k)
    if pa is not None:
        pa = pa[:, None, :] if a_vec else pa
        if type(pa) is np.ndarray and type(B) is np.ndarray and B.ndim == 2:
            # all k directions in one BLAS call: (k·…·m, n) @ (n, p), instead of k products of (m, n) @ (n, p)
            acc = (pa.reshape(math.prod(pa.shape[:-1]), B.shape[0]) @ B).reshape(pa.shape[:-1] + B.shape[1:])
        else:
            acc = np.matmul(_expand(pa, nd), B)
    if pb is not None:
        if b_vec and type(pb) is np.ndarray and type(A) is np.ndarray and A.ndim == 2:
            t = (pb @ A.T)[..., None]  # (k, n) @ (n, m): one BLAS call for every direction
        else:
            pb = pb[..., None] if b_vec else pb
            t = np.matmul(A, _expand(pb, nd))
        acc = t if acc is None else acc + t
    if type(acc) is np.ndarray and acc.size and (m := np.minimum.reduce(acc, None)) != m:
        acc = _nan_safe_matmul(a, b, tag, k, A, B, a_vec, b_vec, nd)  # a NaN (rare): redo it NaN-safely
    if b_vec:
        acc = acc[..., 0]
    if a_vec:
        acc = acc[..., 0, :] if not b_vec else acc[..., 0]
    full = (k,) + _shape(out)
    if _shape(acc) != full:
        acc = np.broadcast_to(acc, full)
    return DualArray._new(_as_array(out), acc, tag)


def _nan_safe_matmul(a, b, tag, k, A, B, a_vec, b_vec, nd):
    """dA·B + A·dB with every product of an exactly zero factor taken as 0 (the NaN-safe chain rule, as in
    _chain): an inf in A meets the zero partials of the directions that do not pass through it."""
    def product(x, y):  # x @ y as the sum of its products, each NaN-safe (memory m·n·p: only on this rare path)
        X, Y = np.expand_dims(x, -1), np.expand_dims(y, -3)
        with np.errstate(invalid="ignore"):
            t = X * Y
        return np.add.reduce(np.where((X == 0) | (Y == 0), 0.0, t), axis=-2)
    acc = None
    pa, pb = _parts(a, tag, 0, k), _parts(b, tag, 0, k)
    if pa is not None:
        acc = product(_expand(pa[:, None, :] if a_vec else pa, nd), B)
    if pb is not None:
        t = product(A, _expand(pb[..., None] if b_vec else pb, nd))
        acc = t if acc is None else acc + t
    return acc


def _shifted(axes):
    return tuple(a + 1 for a in axes)


@implements(np.sum)
def _sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
    if type(a) is DualArray and a._lazy is not None and axis is None and not keepdims and out is None \
            and initial is np._NoValue and where is np._NoValue:
        s = _sum_all(a)  # the fused loop accumulates: no array is stored
        if s is not None:
            return s
    _no_out("np.sum", out)
    if where is not np._NoValue:
        a = HANDLED[np.where](primal(_scalar(where)), a, 0.0)
    if initial is not np._NoValue:
        return _sum(a, axis=axis, keepdims=keepdims) + initial
    if type(a) is Dual:
        a = lift(a)
    if not isinstance(a, DualArray):
        return _sum(_stack_any(a), axis=axis, keepdims=keepdims)
    axes = _axes(axis, a.ndim)
    v = np.add.reduce(a.value, axis=axes, keepdims=keepdims)  # np.sum minus its Python wrapper
    p = np.add.reduce(a.partials, axis=_shifted(axes), keepdims=keepdims)
    return DualArray._new(_as_array(v), p, a.tag)


def _stack_any(seq):
    """A list/tuple that holds duals, joined into one DualArray (np.sum([d1, d2]) and the like)."""
    items = [lift(x) if type(x) is Dual else x for x in seq]
    return _stack(items, axis=0)


def _extremum(a, axis, keepdims, fn):
    """max/min: the derivative flows to the extreme element; ties share it evenly (as for maximum)."""
    a = lift(a) if type(a) is Dual else a
    axes = _axes(axis, a.ndim)
    v = fn(a.value, axis=axes, keepdims=True)
    x0, v0 = primal(a.value), primal(v)
    # a NaN is the extreme of its slice (numpy's max): the derivative flows to the NaN, not NaN to every direction
    hit = ((x0 == v0) | (np.isnan(x0) & np.isnan(v0))).astype(float)
    w = hit / np.sum(hit, axis=axes, keepdims=True)
    p = np.sum(a.partials * w, axis=_shifted(axes), keepdims=keepdims)
    if not keepdims:
        v = np.squeeze(v, axis=axes) if axes else v
    return DualArray._new(_as_array(v), p, a.tag)


@implements(np.cumsum)
def _cumsum(a, axis=None, dtype=None, out=None):
    _no_out("np.cumsum", out)
    a = lift(a) if type(a) is Dual else a
    if axis is None:
        a, axis = _reshape(a, -1), 0
    ax = _axes(axis, a.ndim)[0]
    return DualArray._new(np.cumsum(a.value, axis=ax), np.cumsum(a.partials, axis=ax + 1), a.tag)


def _structural(a, fv, fp):
    a = lift(a) if type(a) is Dual else a
    d = DualArray._new(fv(a.value), fp(a.partials), a.tag)  # transpose & co. are views, as in numpy
    _link(a, d, _remake_structural, (fv, fp))
    return d


@implements(np.reshape)
def _reshape(a, shape=None, order="C", newshape=None, copy=None):
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if order != "C":
        raise TypeError("reshape(order=...) other than 'C' is not supported on DualArray")
    a = lift(a) if type(a) is Dual else a
    v = np.reshape(a.value, shape)
    d = DualArray._new(v, np.reshape(a.partials, (a.npartials,) + _shape(v)), a.tag)  # a view, as in numpy
    _link(a, d, _remake_reshape, shape)
    return d


@implements(np.transpose)
def _transpose(a, axes=None):
    a = lift(a) if type(a) is Dual else a
    axes = tuple(range(a.ndim))[::-1] if axes is None else _axes(axes, a.ndim)
    if sorted(axes) != list(range(a.ndim)):
        raise ValueError(f"np.transpose: axes {axes} don't match an array of {a.ndim} dimensions")
    return _structural(a, lambda v: np.transpose(v, axes), lambda p: np.transpose(p, (0,) + _shifted(axes)))


@implements(np.swapaxes)
def _swapaxes(a, axis1, axis2):
    i, j = _axes((axis1, axis2), _ndim(a))
    return _structural(a, lambda v: np.swapaxes(v, i, j), lambda p: np.swapaxes(p, i + 1, j + 1))


@implements(np.moveaxis)
def _moveaxis(a, source, destination):
    nd = _ndim(a)
    s, d = _axes(source, nd), _axes(destination, nd)
    return _structural(a, lambda v: np.moveaxis(v, s, d), lambda p: np.moveaxis(p, _shifted(s), _shifted(d)))


@implements(np.squeeze)
def _squeeze(a, axis=None):
    nd = _ndim(a)
    if nd == 0 and isinstance(axis, (int, np.integer)) and axis in (0, -1):
        axis = None  # numpy takes axis 0 of a 0-d array here, and squeezes nothing
    axes = tuple(i for i, n in enumerate(_shape(a)) if n == 1) if axis is None else _axes(axis, nd)
    if any(_shape(a)[i] != 1 for i in axes):
        raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return _structural(a, lambda v: np.squeeze(v, axes) if axes else v,
                       lambda p: np.squeeze(p, _shifted(axes)) if axes else p)


@implements(np.expand_dims)
def _expand_dims(a, axis):
    nd = _ndim(a)
    axes = _axes(axis, nd + (len(axis) if isinstance(axis, (tuple, list)) else 1))
    return _structural(a, lambda v: np.expand_dims(v, axes), lambda p: np.expand_dims(p, _shifted(axes)))


@implements(np.broadcast_to)
def _broadcast_to(a, shape, subok=False):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    a = lift(a) if type(a) is Dual else a
    return DualArray._new(np.broadcast_to(a.value, shape),
                          np.broadcast_to(_expand(a.partials, len(shape)), (a.npartials,) + shape), a.tag)


@implements(np.copy)
def _copy(a, order="K", subok=False):
    return lift(a).copy() if type(a) is Dual else a.copy()


def _per_direction(func):
    """A function that is linear in its array argument: apply it to the value and to each direction's slice."""
    def handler(*args, **kwargs):
        a, args, kwargs = linear.split_call(func, args, kwargs)
        a = lift(a) if type(a) is Dual else _const(a)
        if not isinstance(a, DualArray):  # (a dual elsewhere, e.g. in the indices: never differentiated)
            return func(a, *[primal(_scalar(b)) for b in args], **kwargs)
        v = func(a.value, *args, **kwargs)
        if type(v) is np.ndarray and np.may_share_memory(v, a.value):
            v = v.copy()  # (np.flip gives a view) the partials below are new: the value must be new too
        slices = [func(a.partials[j], *args, **kwargs) for j in range(a.npartials)]
        if not slices:  # k = 0, a constant: no directions to map
            p = np.zeros((0,) + _shape(v))
        else:
            p = _stack(slices, axis=0) if any(isinstance(s, DualArray) for s in slices) else np.stack(slices)
        return DualArray._new(_as_array(v), p, a.tag)
    return handler


for _f in linear.GATHERS:  # the linear maps both modes read from one table (take_along_axis: below)
    HANDLED[_f] = _per_direction(_f)


def _take_along(a, idx, ax):
    v = np.take_along_axis(a.value, idx, axis=ax)
    p = np.take_along_axis(a.partials, np.broadcast_to(idx[None], (a.npartials,) + idx.shape), axis=ax + 1)
    return DualArray._new(v, p, a.tag)


@implements(np.take_along_axis)
def _take_along_axis(arr, indices, axis=-1):
    if axis is None:  # numpy: the flattened array
        arr, axis = _reshape(arr, -1), 0
    return _take_along(arr, np.asarray(indices), _axes(axis, _ndim(arr))[0])


# ---- functions that look at the values only -----------------------------------------------------------------




def _join(arrays, axis, func):
    arrays = [lift(a) if type(a) is Dual else a for a in arrays]
    _, tag, k = _top(arrays)
    vals = [_val(a, tag) for a in arrays]
    out = func(vals, axis)
    parts = []
    for a, v in zip(arrays, vals):
        p = _parts(a, tag, 0, k)
        parts.append(np.zeros((k,) + _shape(v)) if p is None else p)
    pax = axis + 1 if axis >= 0 else axis
    return DualArray._new(_as_array(out), func(parts, pax), tag)


def _pieces(arrays):
    """The arrays to join; a list, tuple or object array that holds duals (np.stack([x[0], 2 * x[1]])) becomes a
    DualArray."""
    return [_const(a) if type(a) is list or type(a) is tuple or type(a) is np.ndarray else a for a in arrays]


@implements(np.concatenate)
def _concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    _no_out("np.concatenate", out)
    arrays = _pieces(arrays)
    if axis is None:
        arrays, axis = [np.ravel(a) for a in arrays], 0
    nd = _ndim(arrays[0]) if arrays else 1
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    return _join(arrays, _axes(axis, nd)[0], lambda xs, ax: np.concatenate(xs, axis=ax))


@implements(np.stack)
def _stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    _no_out("np.stack", out)
    arrays = _pieces(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"np.stack: axis must be an integer, got {axis!r}")
    return _join(arrays, _axes(axis, _ndim(arrays[0]) + 1)[0], lambda xs, ax: np.stack(xs, axis=ax))


def _clean_index(idx):
    def one(i):
        if isinstance(i, (DualArray, Dual)):
            p = primal(_scalar(i))
            if np.asarray(p).dtype.kind == "f":
                raise TypeError("a DualArray cannot be used as an index (indices are integers or booleans)")
            return p
        return i
    return tuple(one(i) for i in idx) if isinstance(idx, tuple) else one(idx)


def _index_partials(p, idx, vshape):
    """partials[:, idx]; numpy moves non-adjacent fancy indices to the front, so check and redo if it did."""
    tidx = idx if isinstance(idx, tuple) else (idx,)
    out = p[(slice(None),) + tidx]
    if _shape(out)[1:] == tuple(vshape):
        return out
    # rare: advanced indices separated by a slice; index with the direction axis last instead
    nd = _ndim(p) - 1
    explicit = _expand_ellipsis(tidx, nd)
    out = np.moveaxis(p, 0, -1)[explicit]
    return np.moveaxis(out, -1, 0)


def _expand_ellipsis(tidx, nd):
    used = sum(1 if not (i is None or i is Ellipsis) else 0 for i in tidx
               if not (isinstance(i, np.ndarray) and i.dtype == bool)) + \
        sum(i.ndim for i in tidx if isinstance(i, np.ndarray) and i.dtype == bool)
    out = []
    seen = False
    for i in tidx:
        if i is Ellipsis and not seen:
            out.extend([slice(None)] * (nd - used))
            seen = True
        else:
            out.append(i)
    if not seen:
        out.extend([slice(None)] * (nd - used))
    return tuple(out)


def _carries(a):
    if isinstance(a, DualArray) or type(a) is Dual:
        return True
    if type(a) in DEFER_TO:
        from ..reverse.tracked import peel_idle
        return type(peel_idle(a)) in DEFER_TO
    return False


HANDLED.update(_composites(unsupported, lambda a: primal(_scalar(a)), apply_rule, _extremum,
                           _carries))  # once for all types


# =============================================================================================================
# functions with a hand-written jvp (dualnum/primitive.py): value from the values, partials one direction each
# =============================================================================================================

def _from_primitive(prim):
    def handler(*args, **kwargs):
        if prim.prepare is not None:
            args, kwargs = prim.prepare(args, kwargs)
        pos = prim.positions(len(args))
        args = [lift(a) if type(a) is Dual else a for a in args]
        for i in pos:
            args[i] = _const(args[i])
        _, tag, k = _top([args[i] for i in pos])
        x = [_val(a, tag) if i in pos else a for i, a in enumerate(args)]
        y = primitive.unaliased(prim.func(*x, **kwargs), x)
        many = isinstance(y, tuple)
        ys = tuple(y) if many else (y,)
        moving = [i for i in pos if _parts(args[i], tag, 0, k) is not None]
        directions = []
        for j in range(k if moving else 0):
            dx = [args[i].partials[j] if i in moving else None for i in range(len(args))]
            t = prim.jvp(dx, y, *x, **kwargs)
            directions.append(tuple(t) if many else (t,))
        out = []
        for n, v in enumerate(ys):
            if n in prim.constant or tag < 0:
                out.append(v)
                continue
            slices = [np.broadcast_to(d[n], _shape(v)) if _shape(d[n]) != _shape(v) else d[n]
                      for d in directions if d[n] is not None]
            if not slices:
                p = np.zeros((k,) + _shape(v))
            elif len(slices) != k:
                raise AssertionError(f"{prim.name}: its jvp gave a derivative for some directions only")
            elif any(isinstance(s, DualArray) for s in slices):
                p = _stack(slices, axis=0)
            else:
                p = np.stack(slices)
            out.append(DualArray._new(_as_array(v), p, tag))
        return primitive.like(y, out) if many else out[0]
    handler.__name__ = f"_{prim.func.__name__}"
    return handler


from .. import contractions, linalg, primitive  # noqa: E402,F401  (the entries; their modules import no mode)

_GUFUNCS = contractions.UFUNCS  # (read when a ufunc call runs, after this module has loaded)

for _f, _prim in primitive.TABLE.items():
    HANDLED[_f] = _from_primitive(_prim)
HANDLED.update(primitive.COMPOSITES)
