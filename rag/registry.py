"""Backends by name: the one registry style of embedders, generators and vector stores.

A registry maps a name to its factory: the object itself, or a ``"module:attribute"`` path
imported on first use, so a backend's heavy or optional dependencies load only when it is chosen
and a broken optional backend cannot break the others. An unknown name is a ``ConfigError`` that
lists the known names and the setting that picks one. Tests register fakes the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from rag.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Names to factories (or ``"module:attribute"`` paths to them) of one kind of backend."""

    def __init__(self, kind: str, setting: str, entries: Mapping[str, str | T]) -> None:
        self.kind = kind  # "generator", "embedder", ... (for messages)
        self.setting = setting  # how a user picks one, e.g. "RAG_GENERATOR or --generator"
        self._entries: dict[str, str | T] = dict(entries)

    def register(self, name: str, target: str | T) -> None:
        """Add (or replace) the backend ``name``."""
        self._entries[name] = target

    def unregister(self, name: str) -> None:
        """Forget the backend ``name`` (tests remove the fakes they registered)."""
        self._entries.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def unknown(self, name: str) -> str:
        """The message for a name nothing is registered under."""
        return f"unknown {self.kind} {name!r}; known {self.kind}s: {', '.join(self)}"

    def get(self, name: str) -> T:
        """The factory registered as ``name``, imported if it was given as a path."""
        if name not in self._entries:
            raise ConfigError(f"{self.unknown(name)} (set {self.setting})")
        target = self._entries[name]
        if isinstance(target, str):
            module, _, attribute = target.partition(":")
            loaded: T = getattr(importlib.import_module(module), attribute)
            self._entries[name] = target = loaded
        return target
