"""The PyTorch flavor: a ``torch.nn.Module`` saved as TorchScript, or as its ``state_dict``
plus a class reference when it cannot be scripted.

TorchScript archives and ``state_dict`` files loaded with ``weights_only=True`` hold
data, not pickled code, so neither needs the registry's trust check. A module saved by
``state_dict`` is rebuilt as ``Class(**model.init_kwargs)`` (an attribute the module sets
in its ``__init__``, empty when absent), so its class must be importable where it loads.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Any

from kiln.exceptions import InvalidArgumentError
from kiln.registry.flavors.base import as_matrix, flat, module_of

_SCRIPT = "model.torchscript.pt"
_STATE = "state_dict.pt"


class TorchPredictor:
    """A torch module as a model with ``predict``: rows in, one output row per input row.

    Input is converted to one float32 tensor; inference runs without autograd.
    """

    def __init__(self, module: Any) -> None:
        self.module = module.eval()

    def predict(self, data: Any) -> Any:
        import torch

        matrix = as_matrix(data)
        if not matrix.flags.writeable:  # torch wants to own writable memory
            matrix = matrix.copy()
        with torch.no_grad():
            out = self.module(torch.from_numpy(matrix))
        return flat(out.detach().cpu().numpy())


class TorchFlavor:
    """Saves ``torch.nn.Module`` models (TorchScript first, else ``state_dict`` + class)."""

    name = "torch"

    def handles(self, model: object) -> bool:
        return module_of(model, "torch.nn", "torch.jit")

    def wrap(self, model: object) -> TorchPredictor:
        return TorchPredictor(model)

    def save(self, model: object, path: Path) -> dict[str, Any]:
        import torch

        meta: dict[str, Any] = {"torch_version": torch.__version__}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scripted = model if isinstance(model, torch.jit.ScriptModule) else \
                    torch.jit.script(model)
                torch.jit.save(scripted, str(path / _SCRIPT))
            return {**meta, "file": _SCRIPT, "format": "torchscript"}
        except Exception as exc:  # not scriptable: keep the weights and the class
            meta["torchscript_error"] = str(exc).splitlines()[0][:200] if str(exc) else ""
        cls = type(model)
        if "<locals>" in cls.__qualname__:
            raise InvalidArgumentError(
                f"cannot save torch module {cls.__qualname__}: it is not TorchScript-able and "
                "its class is defined inside a function; define it at module level"
            )
        init_kwargs = dict(getattr(model, "init_kwargs", {}) or {})
        torch.save(model.state_dict(), path / _STATE)  # type: ignore[attr-defined]
        return {**meta, "file": _STATE, "format": "state_dict",
                "class": f"{cls.__module__}:{cls.__qualname__}", "init_kwargs": init_kwargs}

    def load(self, path: Path, meta: dict[str, Any]) -> TorchPredictor:
        import torch

        if meta.get("format") == "torchscript":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scripted = torch.jit.load(  # type: ignore[no-untyped-call]
                    str(path / meta["file"]), map_location="cpu")
                return TorchPredictor(scripted)
        module_name, _, qualname = str(meta["class"]).partition(":")
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        module = target(**meta.get("init_kwargs", {}))
        state = torch.load(path / meta["file"], map_location="cpu", weights_only=True)
        module.load_state_dict(state)
        return TorchPredictor(module)
