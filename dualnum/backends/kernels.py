"""The numba backend: one fused loop per rule computes the value and all k partials in a single pass.

Nothing here knows any calculus. For each rule of :mod:`dualnum.rules` it writes the source of a kernel that
calls the rule's own value function ``f`` and partial formulas, compiled by numba for one element -- the same
formulas the scalar ``Dual``, the numpy path and the tracker evaluate. Add a rule to the table and it is fast
here automatically. The loops are written here; what one element computes (value, local partials, chain rule)
is :mod:`dualnum.backends.elementwise`'s text, the same the CUDA kernels wrap.

* Kernels are generated into one file per version of the table, named by a hash of every rule's formulas
  (bytecode, constants, closures and the helpers they call: a rule registered anywhere, or registered again
  with another formula, makes a new file, so nothing stale is ever served), compiled lazily on first use, and
  cached on disk by numba (``cache=True``) next to that file, so a second process loads them instead of
  compiling. A rule added or changed in a running process regenerates the module on its next use; a rule
  numba cannot compile, or one missing from the module, is computed by numpy.
* The directory is ``$DUALNUM_CACHE_DIR`` or ``~/.cache/dualnum``; if neither is writable (a warning names a
  configured one), a temporary directory. A damaged file there (a generated module cut short, a numba index
  or code file that does not load) is deleted and written again, with one warning naming the directory. If
  numba is missing, under ``dualnum.backends.use("numpy")`` or with ``DUALNUM_NUMBA=0``, everything stays on
  the numpy path with identical results. A rule whose ``numpy_faster`` names this path ("k1": one direction,
  "kn": more) takes numpy's path too, being faster there.
* The chain rule's products are NaN-safe (``_times``): a term d·p is 0 where d or p is 0, so one element's
  inf or NaN derivative stays in the directions that pass through it.
* Only plain float64 arrays of at least :data:`MIN_SIZE` elements (value plus partials) take this path: below
  that numpy's per-call cost is smaller than a kernel launch. Nested duals always use the generic path.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import pathlib
import sys
import tempfile
import types
import warnings

import numpy as np

from . import blocks, elementwise
from .. import rules

MIN_SIZE = 1 << 15  # (k + 1) * n elements; tuned in benchmarks/b1_jvp.py
BLOCK = 2048  # elements per parallel block: the block's derivatives stay in L1 while the k partials stream
ENABLED = os.environ.get("DUALNUM_NUMBA", "1") != "0"  # backends.use() sets it; DUALNUM_NUMBA=0: "numpy"
#: True: every compiled rule takes its kernel, even where Rule.numpy_faster says numpy is faster (tests)
ALWAYS = False
#: rent or buy: a rule's kernel is compiled only once numpy has spent this many seconds computing that rule on
#: big arrays (or numba's disk cache already holds the kernel, or ALWAYS): a compile then never costs more
#: than the work so far, and a short run never pays for one (DUALNUM_FUSE_PAYBACK sets it for fused loops too)
PAYBACK = float(os.environ.get("DUALNUM_FUSE_PAYBACK", "2.0"))
_bought: set = set()  # kernel names worth their compile (paid back, or cached on disk)
_spent: dict = {}  # kernel name -> seconds numpy spent on its work while it was not bought


class Rent:
    """try_apply's answer while a kernel is not yet worth compiling: compute with numpy, and report the time."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def paid(self, seconds):
        _spent[self.name] = _spent.get(self.name, 0.0) + seconds


_disk: dict = {}  # kernel name -> numba's disk cache holds it (asked once: a directory listing costs)


def _buy(name):
    if name in _bought:
        return True
    on_disk = _disk.get(name)
    if on_disk is None:
        on_disk = _disk[name] = cached_on_disk(name)
    if ALWAYS or on_disk or _spent.get(name, 0.0) >= PAYBACK:
        _bought.add(name)
        return True
    return False


def cached_on_disk(function, module=None):
    """numba's disk cache holds ``function`` of the generated kernel module (loading it costs milliseconds)."""
    try:
        module = module or f"dualnum_kernels_{_digest()}"
        return any((cache_dir() / "__pycache__").glob(f"{module}.{function}-*.nbi"))
    except OSError:
        return False
#: threads pay off only on idle cores; on a busy 2-core machine they cost more than they win (benchmarks/)
PARALLEL = os.environ.get("DUALNUM_PARALLEL", "0") == "1"

_module = None
_failed = False

# ---- compiling the table's formulas -----------------------------------------------------------------------

_helpers = None


def _namespace():
    """rules.py's globals, with its helper functions compiled, so the formulas that call them compile too."""
    global _helpers
    if _helpers is None:
        from numba import njit
        ns = dict(vars(rules))
        for name, obj in vars(rules).items():
            if isinstance(obj, types.FunctionType) and obj.__module__ == rules.__name__ and name.startswith("_"):
                ns[name] = njit(error_model="numpy", inline="always")(_rebind(obj, ns))
        ns["_select"] = njit(lambda c, a, b: a if c else b)  # np.where on one element: a branch, no array
        _helpers = ns
    return _helpers


def _rebind(f, ns):
    return types.FunctionType(f.__code__, ns, f.__name__, f.__defaults__, f.__closure__)


# numba lowers a ufunc called on one element through its array machinery; an operator is one instruction
_OPERATORS = {np.add: lambda x, y: x + y, np.subtract: lambda x, y: x - y, np.multiply: lambda x, y: x * y,
              np.true_divide: lambda x, y: x / y, np.power: lambda x, y: x ** y, np.negative: lambda x: -x,
              np.positive: lambda x: x}


def compile_formula(f, arity):
    """A rule's value function or partial as a numba scalar function of ``arity`` arguments."""
    from numba import njit
    if f in _OPERATORS:
        return njit(error_model="numpy", inline="always")(_OPERATORS[f])
    if isinstance(f, np.ufunc) or (callable(f) and not isinstance(f, types.FunctionType)):
        # a ufunc or a numpy function (np.sinc): numba compiles a call to it, not the object itself
        if arity == 1:
            return njit(error_model="numpy", inline="always")(lambda x: f(x))
        return njit(error_model="numpy", inline="always")(lambda x, y: f(x, y))
    if not callable(f):
        c = float(f)
        if arity == 2:
            return njit(lambda x, z: c)
        return njit(lambda x, y, z: c)
    if getattr(f, "__globals__", None) is not vars(rules):
        # a formula from another module (a user's rule) reads its own module's globals, never rules.py's
        return njit(error_model="numpy", inline="always")(f)
    return njit(error_model="numpy", inline="always")(_rebind(f, _namespace()))


# ---- generating the kernels -------------------------------------------------------------------------------

_HEADER = """# Generated by dualnum/backends/kernels.py from dualnum/rules.py (table hash {digest}). Safe to delete.
import numpy as np
from numba import njit, prange
from dualnum.backends.kernels import compile_formula as _c
from dualnum.rules import RULES as _R

BLOCK = {block}

"""

# The loops are this file's; what each element computes (the value, the local partials, the chain rule's terms)
# is elementwise.py's text, the same the CUDA kernels wrap: {F} the value, {D}/{DX}/{DY} the local partials,
# {Q...} a direction's tangent.
_UNARY = """

@njit(cache=True, parallel={parallel}, nogil=True, error_model="numpy")
def unary_{n}(x, px, z, pz):
    n = x.shape[0]
    k = px.shape[0]
    if k == 1:  # one direction (a JVP): a single pass, nothing staged
        p0 = px[0]
        q0 = pz[0]
        for i in prange(n):
            xi = x[i]
            zi = {F}
            z[i] = zi
            q0[i] = {Q1}
        return
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        m = hi - lo
        xs = x[lo:hi]
        zs = z[lo:hi]
        d = np.empty(m)
        for i in range(m):
            xi = xs[i]
            zi = {F}
            zs[i] = zi
            d[i] = {D}
        for j in range(k):
            ps = px[j, lo:hi]
            qs = pz[j, lo:hi]
            for i in range(m):
                qs[i] = {QN}
"""

# One kernel per broadcasting pattern (v: an operand of the output's size, s: a size-1 operand, b: any other
# broadcast, read through an index array: output element i is x[ix[i]]), each with one loop per mode (1: x
# carries the derivative, 2: y does, 3: both), so no branch sits inside a hot loop.
_BINARY = """

@njit(cache=True, parallel={parallel}, nogil=True, error_model="numpy")
def binary_{n}_{pat}(x, px, y, py, mode, z, pz{indices}):
    n = z.shape[0]
    k = pz.shape[0]
    x0 = x[0]
    y0 = y[0]
    if k == 1:  # one direction (a JVP): a single pass, nothing staged
        q0 = pz[0]
        if mode == 1:
            p0 = px[0]
            for i in prange(n):
                xi = {X1}
                yi = {Y1}
                zi = {F}
                z[i] = zi
                q0[i] = {Q1X}
        elif mode == 2:
            r0 = py[0]
            for i in prange(n):
                xi = {X1}
                yi = {Y1}
                zi = {F}
                z[i] = zi
                q0[i] = {Q1Y}
        else:
            p0 = px[0]
            r0 = py[0]
            for i in prange(n):
                xi = {X1}
                yi = {Y1}
                zi = {F}
                z[i] = zi
                q0[i] = {Q1X} + {Q1Y}
        return
    for b in prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        m = hi - lo
        xs = x[lo:hi] if x.shape[0] > 1 else x
        ys = y[lo:hi] if y.shape[0] > 1 else y
        zs = z[lo:hi]
        d = np.empty(m)
        e = np.empty(m if mode == 3 else 0)
        for i in range(m):
            xi = {X}
            yi = {Y}
            zi = {F}
            zs[i] = zi
            if mode == 2:
                d[i] = {DY}
            else:
                d[i] = {DX}
            if mode == 3:
                e[i] = {DY}
        for j in range(k):
            qs = pz[j, lo:hi]
            if mode == 1:
                {LOOP1}
            elif mode == 2:
                {LOOP2}
            else:
                {LOOP3}
"""

#: where each operand's element i is read: in the one-direction loop (X1, PX1: x's value and tangent) and the
#: blocked one (X)
PATTERNS = {
    "vv": dict(X="xs[i]", Y="ys[i]", X1="x[i]", Y1="y[i]", PX1="p0[i]", PY1="r0[i]"),
    "vs": dict(X="xs[i]", Y="y0", X1="x[i]", Y1="y0", PX1="p0[i]", PY1="r0[0]"),
    "sv": dict(X="x0", Y="ys[i]", X1="x0", Y1="y[i]", PX1="p0[0]", PY1="r0[i]"),
    "bb": dict(X="x[ix[lo + i]]", Y="y[iy[lo + i]]", X1="x[ix[i]]", Y1="y[iy[i]]", PX1="p0[ix[i]]",
               PY1="r0[iy[i]]"),
}


def _direction(partials, kind, name, index):
    """(the statement that takes direction j of an operand over the block, its element i): a row, its one
    number when the operand has one element, or the whole row read through the operand's index array."""
    if kind == "v":
        return f"{name} = {partials}[j, lo:hi]", f"{name}[i]"
    if kind == "b":
        return f"{name} = {partials}[j]", f"{name}[{index}[lo + i]]"
    return f"{name} = {partials}[j, 0]", name


def _unary_source(r, parallel):
    x, z = "xi", "zi"
    return "\n" + elementwise.formulas(r) + _UNARY.format(
        n=r.name, parallel=parallel, F=elementwise.value(r, x), D=elementwise.partial(r, 0, x, None, z),
        Q1=elementwise.chain(elementwise.partial(r, 0, x, None, z), "p0[i]"), QN=elementwise.chain("d[i]", "ps[i]"))


def _binary_source(r, pat, parallel):
    x, y, z = "xi", "yi", "zi"
    at = PATTERNS[pat]
    dx, dy = elementwise.partial(r, 0, x, y, z), elementwise.partial(r, 1, x, y, z)
    (take_p, p), (take_r, q) = _direction("px", pat[0], "ps", "ix"), _direction("py", pat[1], "rs", "iy")
    indent = "\n" + " " * 16

    def loop(takes, expr):
        return indent.join([*takes, "for i in range(m):", f"    qs[i] = {expr}"])
    return _BINARY.format(
        n=r.name, pat=pat, parallel=parallel, indices=", ix, iy" if pat == "bb" else "", X=at["X"], Y=at["Y"], X1=at["X1"], Y1=at["Y1"],
        F=elementwise.value(r, x, y), DX=dx, DY=dy,
        Q1X=elementwise.chain(dx, at["PX1"]), Q1Y=elementwise.chain(dy, at["PY1"]),
        LOOP1=loop([take_p], elementwise.chain("d[i]", p)),
        LOOP2=loop([take_r], elementwise.chain("d[i]", q)),
        LOOP3=loop([take_p, take_r], elementwise.chain("d[i]", p) + " + " + elementwise.chain("e[i]", q)))


def kernel_rules():
    """The rules that get a compiled kernel: one- and two-argument rules with a non-zero derivative."""
    return [r for r in rules.RULES.values() if r.arity in (1, 2) and not r.zero and not r.nondiff and r.compiled]


def source() -> str:
    digest = _digest()
    parts = [_HEADER.format(digest=digest, block=BLOCK), elementwise.TIMES.format(decorator=_INLINE)]
    for r in kernel_rules():
        if r.arity == 1:
            parts.append(_unary_source(r, PARALLEL))
            continue
        parts.append("\n" + elementwise.formulas(r))
        for pat in PATTERNS:
            parts.append(_binary_source(r, pat, PARALLEL))
    return "".join(parts)


_INLINE = 'njit(inline="always", error_model="numpy")'  # the chain rule's product: inlined into every loop


def _digest():
    """A hash of everything a kernel depends on: every rule's formulas (not only rules.py's source: a rule
    registered elsewhere, or registered again under the same name, changes it), this generator, the
    compile options and numba's version. Computed once per version of the table."""
    global _digest_of
    table = tuple((r.name, r) for r in kernel_rules())  # (rules without kernels, scipy's, change no kernel)
    if _digest_of is not None and len(_digest_of[0]) == len(table) and \
            all(a[1] is b[1] for a, b in zip(_digest_of[0], table)):
        return _digest_of[1]
    h = hashlib.sha1()
    for name, r in sorted(table, key=lambda item: item[0]):
        h.update(repr((name, r.arity, r.zero, r.nondiff)).encode())
        for f in (r.f, *r.partials):
            h.update(_content(f, set()).encode())
    h.update(pathlib.Path(__file__).read_bytes())  # the generator itself, templates and compile options
    h.update(pathlib.Path(elementwise.__file__).read_bytes())  # the per-element text the templates wrap
    h.update(str(PARALLEL).encode())
    h.update(_numba_version().encode())
    _digest_of = (table, h.hexdigest()[:16])  # holds the Rule objects: their ids cannot be reused meanwhile
    return _digest_of[1]


_digest_of = None


def _numba_version():
    """The installed numba's distribution name (numba-0.68.1.dist-info), found without importing numba (half a
    second) or importlib.metadata (which imports email, csv and socket on a class's first fused loop)."""
    try:
        origin = pathlib.Path(importlib.util.find_spec("numba").origin)
        names = sorted(p.name for p in origin.parent.parent.glob("numba-*.*-info"))
        return " ".join(names) if names else (origin.parent / "_version.py").read_text()
    except Exception:  # no numba, or an unusual layout: the digest then covers the rest
        return ""


def _content(obj, seen):
    """What a formula computes, as text: bytecode, constants, names, closure values and the functions and
    numbers it reads from its globals, recursively (a helper's change shows), never an address."""
    if isinstance(obj, (bool, int, float, str, bytes, type(None))):
        return repr(obj)
    if isinstance(obj, np.ufunc):
        return f"ufunc:{obj.__name__}"
    if isinstance(obj, (tuple, list, frozenset)):
        return "(" + ",".join(_content(o, seen) for o in obj) + ")"
    if isinstance(obj, types.CodeType):
        return "code:" + obj.co_code.hex() + _content(obj.co_consts, seen) + repr(obj.co_names) + \
            repr(obj.co_argcount)
    if isinstance(obj, types.FunctionType) and not (obj.__module__ or "").startswith(_LIBRARIES):
        if id(obj) in seen:
            return f"fn:{obj.__qualname__}"
        seen.add(id(obj))
        parts = [_content(obj.__code__, seen), _content(obj.__defaults__, seen)]
        for cell in obj.__closure__ or ():
            try:
                parts.append(_content(cell.cell_contents, seen))
            except ValueError:  # an empty cell
                parts.append("empty")
        for name in _global_names(obj.__code__):
            if name in obj.__globals__:
                g = obj.__globals__[name]
                parts.append(f"{name}=" + (f"module:{g.__name__}" if isinstance(g, types.ModuleType)
                                           else _content(g, seen)))
        return "fn:" + "|".join(parts)
    if isinstance(obj, np.ndarray):
        return f"array:{obj.dtype}:{obj.shape}:{obj.tobytes().hex()}"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name is not None:  # builtins, numpy functions, classes
        return f"{type(obj).__name__}:{getattr(obj, '__module__', '')}.{name}"
    text = repr(obj)
    return type(obj).__name__ + ":" + ("" if " at 0x" in text else text)


_LIBRARIES = ("numpy", "numba", "math", "builtins", "functools")  # versioned with the library: named, not read


def _global_names(code):
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _global_names(c)
    return sorted(names)


_warned: set = set()


def warn_once(key, message):
    """One RuntimeWarning per problem and process: a broken cache must not flood every operation."""
    if key not in _warned:
        _warned.add(key)
        warnings.warn(f"dualnum: {message}", RuntimeWarning, stacklevel=3)


_cache_dir = None


def cache_dir() -> pathlib.Path:
    """Where generated kernels (and numba's cache of them) live: the first writable of the candidates.

    ``$DUALNUM_CACHE_DIR`` if set (a warning names it if it is not a writable directory), else
    ``~/.cache/dualnum`` (when there is a home: a uid without a passwd entry has none), else a directory in
    the system's temporary directory."""
    global _cache_dir
    if _cache_dir is not None and _cache_dir.is_dir():
        return _cache_dir
    configured = os.environ.get("DUALNUM_CACHE_DIR")
    candidates = [pathlib.Path(configured)] if configured else []
    try:
        candidates.append(pathlib.Path.home() / ".cache" / "dualnum")
    except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry
        pass
    candidates.append(pathlib.Path(tempfile.gettempdir()) / f"dualnum-{os.getuid() if hasattr(os, 'getuid') else 0}")
    for d in candidates:
        try:
            d.mkdir(parents=True, exist_ok=True)
            probe = d / f".probe-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError as e:
            if configured and d == candidates[0]:
                warn_once(("cache_dir", configured), f"DUALNUM_CACHE_DIR={configured} is not a writable directory "
                          f"({e.__class__.__name__}: {e}); compiled kernels are cached elsewhere")
            continue
        _cache_dir = d
        return d
    _cache_dir = pathlib.Path(tempfile.mkdtemp(prefix="dualnum-"))
    return _cache_dir


def _end_line(digest):
    return f"# end of generated source {digest}\n"


def load_generated(name, text, digest):
    """Write ``text`` to ``<cache_dir>/<name>.py`` (unless a complete copy is there) and import it.

    A file cut short or damaged (its last line is not the end marker, or it fails to import) is deleted
    with numba's cache of it and written again, once, with a warning naming the directory."""
    path = cache_dir() / f"{name}.py"
    text = text + _end_line(digest)
    for attempt in range(2):
        try:
            ok = path.exists() and path.read_text().endswith(_end_line(digest))
        except (OSError, UnicodeDecodeError):
            ok = False
        if not ok:
            if path.exists():
                warn_once(("repaired", str(path.parent)), f"repaired a damaged generated kernel file in "
                          f"{path.parent} ({path.name}); it is written again")
                forget_cache(path)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(text)
            os.replace(tmp, path)  # atomic: a concurrent process never imports half a file
        try:
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            sys.modules[name] = mod
            return mod
        except Exception as e:
            if attempt:
                raise
            warn_once(("repaired", str(path.parent)), f"repaired a damaged generated kernel file in "
                      f"{path.parent} ({path.name}: {e.__class__.__name__}); it is written again")
            forget_cache(path, source_too=True)


def forget_cache(path, source_too=False):
    """Delete numba's cache files (.nbi index, .nbc code) of the generated module at ``path``."""
    path = pathlib.Path(path)
    for f in (path.parent / "__pycache__").glob(f"{path.stem}.*"):
        if f.suffix in (".nbi", ".nbc", ".pyc"):
            try:
                f.unlink()
            except OSError:
                pass
    if source_too:
        try:
            path.unlink()
        except OSError:
            pass


_module_rules: dict = {}  # rule name -> the Rule object the current module was generated from


def module():
    """The generated kernel module (written and imported on first use), or None if numba is unavailable."""
    global _module, _failed, _module_rules
    if _module is not None or _failed:
        return _module
    try:
        import numba  # noqa: F401
        digest = _digest()
        built = {r.name: r for r in kernel_rules()}
        mod = load_generated(f"dualnum_kernels_{digest}", source(), digest)
        _module, _module_rules = mod, built
    except Exception as e:  # no numba, no writable disk: stay correct on the numpy path
        warnings.warn(f"dualnum: numba kernels unavailable ({e}); using numpy", RuntimeWarning, stacklevel=2)
        _failed = True
    return _module


def _current_module(rule):
    """The module that holds ``rule``'s kernel, regenerated if the table changed; None: use numpy."""
    mod = module()
    if mod is None or _module_rules.get(rule.name) is rule:
        return mod
    if not rule.compiled or rules.RULES.get(rule.name) is not rule:
        return None  # a rule no longer in the table (replaced): never served from a kernel of another
    _refresh()
    return module()


def _refresh():
    """The table changed (a rule added or registered again): the next kernel comes from a new module."""
    global _module
    _module = None
    _broken.clear()
    _disk.clear()
    from . import fusion
    fusion.refresh()


_broken: set = set()  # kernel names that failed (numba cannot compile a formula): numpy serves those rules


def _call(mod, name, args):
    """mod.name(*args); False if there is no such kernel or it fails (a damaged numba cache is repaired)."""
    kern = getattr(mod, name, None)
    if kern is None or name in _broken:
        return False
    try:
        kern(*args)
        return True
    except Exception as e:
        first = e
    from numba.core.errors import NumbaError
    if isinstance(first, NumbaError):  # numba cannot compile this formula (a user's rule): numpy serves it
        _broken.add(name)
        warn_once(("kernel", name), f"the kernel {name} does not compile ({first.__class__.__name__}); this "
                  "rule uses numpy instead")
        return False
    # numba's cache of this module may be damaged (a cut-short .nbi/.nbc): delete it, import afresh, retry once
    global _module
    path = pathlib.Path(mod.__file__)
    forget_cache(path)
    try:
        fresh = load_generated(mod.__name__, source(), _digest()) if mod is _module else None
        if fresh is not None:
            getattr(fresh, name)(*args)
            warn_once(("numba-cache", str(path.parent)), f"numba's cache in {path.parent} could not be read "
                      f"({first.__class__.__name__}); it was deleted and the kernels compiled again")
            _module = fresh
            return True
    except Exception:
        pass
    _broken.add(name)
    warn_once(("kernel", name), f"the compiled kernel {name} failed ({first.__class__.__name__}: "
              f"{str(first)[:200]}); this rule uses numpy instead")
    return False


# ---- calling them -----------------------------------------------------------------------------------------

def _flat(a):
    a = np.ascontiguousarray(a, dtype=np.float64)
    return a.reshape(-1)


def fusion_bound():
    from . import fusion
    return fusion._DualArray


def try_apply(rule, args, vals, tag, k):
    """(value, partials) by a compiled kernel, or None when this call should take the numpy path."""
    DualArray = fusion_bound()  # forward mode's class, handed to the backends by forward mode itself
    if not ENABLED or rule.zero or rule.nondiff or rule.arity not in (1, 2) or k == 0 or not rule.compiled:
        return None  # (k = 0: constants only, numpy computes the values; scipy's rules are never compiled)
    if rule.numpy_faster and ("k1" if k == 1 else "kn") in rule.numpy_faster and not ALWAYS:
        return None  # measured: numpy's path is the faster one for this rule (Rule.numpy_faster)
    sizes = [v.size if type(v) is np.ndarray else 1 for v in vals]
    n = max(sizes)
    if len(vals) == 2 and np.shape(vals[0]) != np.shape(vals[1]):
        n = sizes[0] * sizes[1]  # two operands broadcast to at most the product of their sizes
    if (k + 1) * n < MIN_SIZE:  # cheap early exit: small arrays are numpy's
        return None
    shapes = []
    for a, v in zip(args, vals):
        if isinstance(v, DualArray) or (isinstance(a, DualArray) and isinstance(a.partials, DualArray)):
            return None  # nested duals: generic path
        shapes.append(np.shape(v))
    out_shape = shapes[0] if rule.arity == 1 else np.broadcast_shapes(*shapes)
    n = int(np.prod(out_shape))
    if (k + 1) * n < MIN_SIZE:
        return None
    spread = rule.arity == 2 and any(s != out_shape and int(np.prod(s)) != 1 for s in shapes)
    if rule.arity == 1:
        name = "unary_" + rule.name
    elif spread:  # general broadcasting (an outer product, a bias added to a matrix): through index arrays
        name = f"binary_{rule.name}_bb"
    else:
        pat = "".join("v" if np.size(v) == n else "s" for v in vals)
        name = f"binary_{rule.name}_{'vv' if pat == 'ss' else pat}"
    if not _buy(name):
        return Rent(name)
    mod = _current_module(rule)
    if mod is None:
        return None
    block = blocks.empty((k + 1,) + tuple(out_shape))  # value and partials in one block, reused once free
    z, pz = block[0], block[1:]
    zf, pzf = z.reshape(-1), pz.reshape(k, -1)
    if rule.arity == 1:
        ok = _call(mod, name, (_flat(vals[0]), np.ascontiguousarray(args[0].partials).reshape(k, -1), zf, pzf))
        return (z, pz) if ok else None
    flat, parts, mode = [], [], 0
    dummy = np.empty((0, 0))
    for i, (a, v) in enumerate(zip(args, vals)):
        flat.append(_flat(v))
        if isinstance(a, DualArray) and a.tag == tag and a.npartials == k:  # (k = 0: a constant)
            mode |= 1 << i
            parts.append(np.ascontiguousarray(a.partials).reshape(k, -1))
        else:
            parts.append(dummy)
    extra = (_spread_index(shapes[0], out_shape), _spread_index(shapes[1], out_shape)) if spread else ()
    ok = _call(mod, name, (flat[0], parts[0], flat[1], parts[1], mode, zf, pzf, *extra))
    return (z, pz) if ok else None


_SPREAD: dict = {}  # (operand shape, output shape) -> index array: the same shapes come back every pass


def _spread_index(shape, out_shape):
    """For each element of the output (C order), the position in the operand it is broadcast from."""
    key = (shape, out_shape)
    index = _SPREAD.get(key)
    if index is None:
        size = int(np.prod(shape))
        index = np.broadcast_to(np.arange(size, dtype=np.intp).reshape(shape), out_shape).ravel()
        index.flags.writeable = False
        if sum(i.size for i in _SPREAD.values()) + index.size > SPREAD_LIMIT:  # bounded: forget them all,
            _SPREAD.clear()  # keep the newest
        _SPREAD[key] = index
    return index


SPREAD_LIMIT = 1 << 22  # index elements kept for reuse (32 MiB)
