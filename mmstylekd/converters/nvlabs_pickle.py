"""Read NVlabs network pickles without running any code from them.

NVlabs' stylegan2-ada-pytorch and stylegan3 save networks with
``pickle.dump`` (``training/training_loop.py``: a dict with ``G``, ``D``,
``G_ema``, ``augment_pipe``, ``training_set_kwargs``). Every network module is
a *persistent object* (``torch_utils/persistence.py``): it pickles as
``torch_utils.persistence._reconstruct_persistent_obj(meta)``, where ``meta``
holds ``type`` ('class'), ``version``, ``module_src`` (the full source code of
the module that defined the class), ``class_name`` and ``state`` (the
module's ``__dict__``: ``_parameters``, ``_buffers``, ``_modules`` and plain
attributes). Loading such a pickle with NVlabs' code runs ``exec(module_src)``
(``_src_to_module``): a pickle can execute anything.

:class:`RestrictedUnpickler` resolves only an allow-list of globals, each to a
function written here that builds plain data:

- ``_reconstruct_persistent_obj(meta)`` -> :class:`PersistentObject` holding
  ``class_name`` and ``state``; ``module_src`` is never executed;
- tensors (``torch._utils._rebuild_tensor_v2``, ``_rebuild_parameter``) from
  storages; a storage pickles as ``torch.storage._load_from_bytes(bytes)``,
  which itself calls ``torch.load(..., weights_only=False)``: its bytes are
  loaded here with ``weights_only=True``;
- ``dnnlib.util.EasyDict`` -> a plain ``dict`` subclass; ``OrderedDict``,
  ``set``, ``frozenset``; numpy arrays, dtypes and scalars (NVlabs keeps
  gains and sizes as numpy values); ``_codecs.encode`` for latin-1 text only
  (how protocol-2 pickles store bytes).

Anything else is refused with :class:`UnsafePickleError` naming the
``module.name`` before anything is called.
"""
import _compat_pickle
import codecs
import collections
import io
import pickle
from typing import Any, Dict, Optional

import numpy as np
import torch


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asks for something outside the allow-list."""


class AttrDict(dict):
    """Stand-in for ``dnnlib.util.EasyDict``: a plain dict, no behaviour."""


class PersistentObject:
    """An NVlabs persistent object, reduced to its saved state.

    Args:
        class_name (str): the class name recorded by NVlabs' persistence
            (e.g. ``'SynthesisLayer'``).
        state (dict): the object's saved ``__dict__``.
        version (int): ``torch_utils.persistence`` format version.
        path (str): where the object sits, for error messages
            (``'G_ema.synthesis.b8.conv0'``).
    """

    def __init__(self, class_name: str, state: dict, version: int,
                 path: str = '?'):
        self.class_name = class_name
        self.state = state
        self.version = version
        self.path = path

    def __repr__(self):
        # the class name comes from the file: shown as a literal
        return f'PersistentObject({self.class_name!r} at {self.path})'

    def has_child(self, name: str) -> bool:
        """Whether the module has a submodule ``name``."""
        return self.state.get('_modules', {}).get(name) is not None

    def child(self, name: str) -> 'PersistentObject':
        """The submodule ``name``; KeyError naming the path if absent."""
        child = self.state.get('_modules', {}).get(name)
        if not isinstance(child, PersistentObject):
            raise KeyError(f'{self.path}.{name}: missing from the pickle '
                           f'({self.class_name} has submodules '
                           f'{list(self.state.get("_modules", {}))}).')
        child.path = f'{self.path}.{name}'
        return child

    def attr(self, name: str, default: Any = KeyError) -> Any:
        """A plain attribute of the saved state (numpy scalars -> Python)."""
        if name not in self.state:
            if default is KeyError:
                raise KeyError(f'{self.path}: the saved {self.class_name} '
                               f'has no attribute {name!r}.')
            return default
        value = self.state[name]
        if isinstance(value, np.generic):
            return value.item()
        return value

    def tensors(self, prefix: str = '') -> Dict[str, torch.Tensor]:
        """Parameters and persistent buffers, recursively, like
        ``nn.Module.state_dict`` (keys relative to this object)."""
        out = {}
        skip = set(self.state.get('_non_persistent_buffers_set', ()))
        for group in ('_parameters', '_buffers'):
            for name, value in self.state.get(group, {}).items():
                if value is not None and name not in skip:
                    out[prefix + name] = value
        for name in self.state.get('_modules', {}):
            if self.has_child(name):
                out.update(self.child(name).tensors(f'{prefix}{name}.'))
        return out


# ------------------------------------------------------------ safe builders
def _reconstruct_persistent_obj(meta) -> PersistentObject:
    if not isinstance(meta, dict) or meta.get('type') != 'class' or \
            not isinstance(meta.get('class_name'), str) or \
            not isinstance(meta.get('state'), dict):
        raise UnsafePickleError(
            'A persistent object does not have the NVlabs layout '
            '(meta with type="class", class_name, state).')
    # meta['module_src'] (the network's source code) is deliberately unused
    return PersistentObject(meta['class_name'], meta['state'],
                            meta.get('version'))


def _load_storage_from_bytes(data: bytes):
    # torch's own _load_from_bytes uses weights_only=False
    if not isinstance(data, (bytes, bytearray)):
        raise UnsafePickleError('A tensor storage is not stored as bytes.')
    try:
        return torch.load(
            io.BytesIO(data), map_location='cpu', weights_only=True)
    except Exception as err:  # torch raises several types here
        raise UnsafePickleError(
            'A tensor storage could not be read with weights_only=True (it '
            f'holds more than tensor data): {err}') from err


def _no_hooks(hooks, what: str):
    if hooks:
        raise UnsafePickleError(f'{what} carries backward hooks (code); '
                                'refusing it.')


def _rebuild_tensor(storage, storage_offset, size, stride):
    if not isinstance(storage, (torch.TypedStorage, torch.UntypedStorage)):
        raise UnsafePickleError('A tensor is not built on a torch storage.')
    return torch._utils._rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage,
                       storage_offset,
                       size,
                       stride,
                       requires_grad=False,
                       backward_hooks=None,
                       metadata=None):
    _no_hooks(backward_hooks, 'A tensor')
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    # parameters become plain tensors: only their values are converted
    _no_hooks(backward_hooks, 'A parameter')
    return data


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks,
                                  state):
    _no_hooks(backward_hooks, 'A parameter')
    if state:
        raise UnsafePickleError('A parameter carries Python attributes '
                                f'{list(state)}; refusing it.')
    return data


def _latin1_encode(text, encoding='latin1'):
    if not isinstance(text, str) or codecs.lookup(encoding).name != \
            'iso8859-1':
        raise UnsafePickleError('_codecs.encode is allowed for latin-1 '
                                'text only.')
    return text.encode('latin1')


def _numpy_globals() -> Dict[str, Any]:
    try:  # numpy >= 1.26 (numpy 2 pickles name numpy._core)
        from numpy._core import multiarray
    except ImportError:
        from numpy.core import multiarray
    allowed = {'numpy.ndarray': np.ndarray, 'numpy.dtype': np.dtype}
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed[f'{module}._reconstruct'] = multiarray._reconstruct
        allowed[f'{module}.scalar'] = multiarray.scalar
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:  # numpy >= 1.25 pickles dtypes through classes
        for name in dir(dtypes):
            if name.endswith('DType'):
                allowed[f'numpy.dtypes.{name}'] = getattr(dtypes, name)
    return allowed


#: ``module.name`` -> what it resolves to. Nothing here runs code from the
#: file: every entry builds data from already-unpickled plain values.
SAFE_GLOBALS = {
    'torch_utils.persistence._reconstruct_persistent_obj':
    _reconstruct_persistent_obj,
    'torch._utils._rebuild_tensor': _rebuild_tensor,
    'torch._utils._rebuild_tensor_v2': _rebuild_tensor_v2,
    'torch._utils._rebuild_parameter': _rebuild_parameter,
    'torch._utils._rebuild_parameter_with_state':
    _rebuild_parameter_with_state,
    'torch.storage._load_from_bytes': _load_storage_from_bytes,
    'dnnlib.util.EasyDict': AttrDict,
    'dnnlib.EasyDict': AttrDict,
    'collections.OrderedDict': collections.OrderedDict,
    'builtins.set': set,
    'builtins.frozenset': frozenset,
    '_codecs.encode': _latin1_encode,
    **_numpy_globals(),
}


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only :data:`SAFE_GLOBALS`.

    Args:
        file: binary file object.
        source (str): file name for messages.
    """

    def __init__(self, file, source: str = '<pickle>'):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        # protocol-2 pickles name Python 2 modules (__builtin__.set): map
        # them as pickle's own find_class does
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        key = f'{module}.{name}'
        if key in SAFE_GLOBALS:
            return SAFE_GLOBALS[key]
        hint = ''
        if module.startswith('dnnlib.tflib'):
            hint = (' This is a TensorFlow StyleGAN pickle: convert it to the '
                    'PyTorch format first (NVlabs legacy.py).')
        raise UnsafePickleError(
            f'{self.source}: refusing to load {key}: it is not part of an '
            'NVlabs network pickle (only persistent network objects, tensors '
            f'and plain data are read; nothing from the file is run).{hint}')

    def persistent_load(self, pid):
        raise UnsafePickleError(
            f'{self.source}: persistent id {pid!r}: this is not a plain '
            'pickle (a torch.save zip/legacy file?); NVlabs network pickles '
            'have none.')


def load_nvlabs_pickle(path: str) -> Dict[str, Any]:
    """Read an NVlabs network pickle (``.pkl``) safely.

    Args:
        path (str): the pickle.

    Returns:
        dict: the pickle's top-level dict; networks (``G``, ``D``, ``G_ema``,
        ``augment_pipe``) are :class:`PersistentObject` with ``path`` set to
        their key.

    Raises:
        UnsafePickleError: the file asks for anything outside
            :data:`SAFE_GLOBALS` (the message names it).
        ValueError: the file is not a dict of networks.
    """
    with open(path, 'rb') as f:
        data = RestrictedUnpickler(f, source=str(path)).load()
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected an NVlabs network pickle (a dict '
                         f'with G_ema, G, D), got {type(data).__name__}.')
    for key, value in data.items():
        if isinstance(value, PersistentObject):
            value.path = key
    return data


def network(data: Dict[str, Any], key: str,
            source: str) -> Optional[PersistentObject]:
    """``data[key]`` when it is a network, None when absent.

    Raises:
        ValueError: ``key`` holds something that is not a network.
    """
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, PersistentObject):
        raise ValueError(f'{source}: {key!r} is a {type(value).__name__}, '
                         'not an NVlabs network.')
    return value
