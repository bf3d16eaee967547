"""Free-text class names matched to VGGSounder classes: opt-in, reported, never silent.

A model that writes text (a generative model asked "what do you hear?") rarely spells the
309 class names exactly. The reference matches names exactly and drops the rest with a
warning, so ``"Dog barking"`` scores as a miss. The strategies here are opt-in:

==============  ===========================================================================
strategy        a predicted text matches a class when
==============  ===========================================================================
``exact``       it is the class name, character for character (the default; the
                reference's behaviour)
``normalized``  it equals the class name after Unicode NFKC, case folding, punctuation
                replaced by spaces and runs of whitespace collapsed (``"DOG-barking "``)
``aliases``     as ``normalized``, and each comma-separated part of a class name is a name
                of that class too (``"man speaking"`` is ``"male speech, man speaking"``)
a ``dict``      the mapping gives the class (name or index; ``None``: no class);
                texts the mapping does not hold are matched exactly
a callable      ``function(text)`` gives the class (name or index) or ``None``
==============  ===========================================================================

Anything but ``exact`` departs from the authors' protocol: the paper mapped the free-text
outputs of open-source models to classes with an LLM judge, not with rules. Report the
strategy with the numbers (:func:`strategy_name`).

Names that match no class are reported with the nearest class names as suggestions
(:mod:`difflib` from the standard library: a few hundred class names need no faster fuzzy
matcher, and the project gains no dependency).

Example:
    >>> classes = ("dog barking", "male speech, man speaking")
    >>> report = match_class_names(["Dog  Barking", "man speaking", "cat"], classes,
    ...                            strategy="aliases")
    >>> report.indices, report.unmatched
    ((0, 1, None), ('cat',))
    >>> match_class_names(["dog barkin"], classes).suggestions
    {'dog barkin': ('dog barking',)}
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vggsounder_hf.core.errors import OptionError

__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "LabelMatching",
    "MatchReport",
    "class_lookup",
    "match_class_names",
    "match_label_sets",
    "normalize_name",
    "strategy_name",
    "suggest_classes",
]

STRATEGIES: tuple[str, ...] = ("exact", "normalized", "aliases")
"""The named strategies (a ``dict`` or a callable may be given instead)."""
DEFAULT_STRATEGY = "exact"

LabelMatching = str | Mapping[str, Any] | Callable[[str], Any]
"""A strategy name, a ``{text: class}`` mapping or a ``text -> class`` callable."""
Lookup = Callable[[str], int | None]


def normalize_name(text: str) -> str:
    """A class name or predicted text, compared without case, punctuation or spacing.

    Example:
        >>> normalize_name("  Police Car (SIREN) "), normalize_name("ｄｏｇ\\tbow-wow")
        ('police car siren', 'dog bow wow')
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    spaced = "".join(" " if unicodedata.category(char)[0] == "P" else char for char in folded)
    return " ".join(spaced.split())


def strategy_name(strategy: LabelMatching) -> str:
    """How a strategy is named in output metadata: its name, ``"mapping"`` or ``"callable"``.

    Example:
        >>> strategy_name("aliases"), strategy_name({"dog": "dog barking"}), strategy_name(len)
        ('aliases', 'mapping', 'callable')
    """
    if isinstance(strategy, str):
        _check_name(strategy)
        return strategy
    if isinstance(strategy, Mapping):
        return "mapping"
    if callable(strategy):
        return "callable"
    raise OptionError(_bad_strategy(strategy))


def _check_name(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise OptionError(_bad_strategy(strategy))


def _bad_strategy(strategy: Any) -> str:
    return (
        f"label matching {strategy!r} is not a strategy; use one of {', '.join(STRATEGIES)}, "
        "a dict {text: class name} or a callable text -> class name"
    )


def _name_table(class_names: Sequence[str], strategy: str) -> dict[str, int | None]:
    """Every accepted spelling -> class index (``None`` where two classes share it)."""
    table: dict[str, int | None] = {}

    def add(key: str, index: int) -> None:
        table[key] = index if table.get(key, index) == index else None

    for index, name in enumerate(class_names):
        add(normalize_name(name), index)
    if strategy == "aliases":
        for index, name in enumerate(class_names):
            for part in name.split(","):
                if normalize_name(part):
                    add(normalize_name(part), index)
    return table


def _class_index(value: Any, class_names: Sequence[str], text: str) -> int | None:
    """The class a user mapping or callable gave for ``text``, as an index."""
    if value is None:
        return None
    if isinstance(value, str):
        if value not in class_names:
            raise OptionError(
                f"label matching maps {text!r} to {value!r}, which is not a class name"
            )
        return list(class_names).index(value)
    integral = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    if integral and 0 <= value < len(class_names):
        return int(value)
    raise OptionError(
        f"label matching maps {text!r} to {value!r}: give a class name, a class index "
        f"0..{len(class_names) - 1} or None"
    )


def class_lookup(class_names: Sequence[str], strategy: LabelMatching = DEFAULT_STRATEGY) -> Lookup:
    """A function ``text -> class index`` (``None`` when the text matches no class).

    Results are cached per text: the lookup is cheap on the many repeats of a model's
    outputs.

    Raises:
        OptionError: Unknown strategy; later, a mapping or callable that gives a value that
            is not a class.

    Example:
        >>> lookup = class_lookup(("dog barking", "cat purring"), "normalized")
        >>> lookup("Cat purring."), lookup("cat")
        (1, None)
    """
    class_names = tuple(class_names)
    exact = {name: index for index, name in enumerate(class_names)}
    if isinstance(strategy, str):
        _check_name(strategy)
        if strategy == "exact":
            return exact.get
        table = _name_table(class_names, strategy)

        def match(text: str) -> int | None:
            return exact.get(text, table.get(normalize_name(text)))

    elif isinstance(strategy, Mapping):
        given = dict(strategy)

        def match(text: str) -> int | None:
            if text in given:
                return _class_index(given[text], class_names, text)
            return exact.get(text)

    elif callable(strategy):

        def match(text: str) -> int | None:
            return _class_index(strategy(text), class_names, text)

    else:
        raise OptionError(_bad_strategy(strategy))
    cache: dict[str, int | None] = {}

    def cached(text: str) -> int | None:
        if text not in cache:
            cache[text] = match(text)
        return cache[text]

    return cached


def suggest_classes(text: str, class_names: Sequence[str], n: int = 3) -> tuple[str, ...]:
    """The class names nearest to ``text``, best first; empty when none is near.

    First the close spellings (:func:`difflib.get_close_matches` on the normalized names),
    then the classes that share the most words with the text (``"dog"`` is near every
    ``"dog ..."`` class), closer spellings first.

    Example:
        >>> suggest_classes("DOG BARKS", ("dog barking", "dog howling", "cat purring"))
        ('dog barking', 'dog howling')
        >>> suggest_classes("violin", ("playing violin, fiddle", "cat purring"))
        ('playing violin, fiddle',)
    """
    by_normalized: dict[str, str] = {}
    for name in class_names:
        by_normalized.setdefault(normalize_name(name), name)
    key = normalize_name(text)
    chosen = difflib.get_close_matches(key, list(by_normalized), n=n, cutoff=0.6)
    words = set(key.split())
    sharing = [
        (-len(words & set(name.split())), -difflib.SequenceMatcher(None, key, name).ratio(), name)
        for name in by_normalized
        if name not in chosen and words & set(name.split())
    ]
    chosen += [name for *_, name in sorted(sharing)][: n - len(chosen)]
    return tuple(by_normalized[name] for name in chosen)


@dataclass(frozen=True)
class MatchReport:
    """What a strategy made of a list of texts.

    Attributes:
        texts: The texts, in order.
        indices: Per text, the class index, or ``None``.
        class_names: The classes matched against.
        strategy: :func:`strategy_name` of the strategy.
        unmatched: The texts that matched no class, each once, in order of appearance.
        suggestions: Per unmatched text, the nearest class names (may be empty).
    """

    texts: tuple[str, ...]
    indices: tuple[int | None, ...]
    class_names: tuple[str, ...] = field(repr=False)
    strategy: str
    unmatched: tuple[str, ...]
    suggestions: dict[str, tuple[str, ...]]

    @property
    def matched(self) -> dict[str, str]:
        """``{text: class name}`` of the texts that matched."""
        return {
            text: self.class_names[index]
            for text, index in zip(self.texts, self.indices, strict=True)
            if index is not None
        }

    def format(self) -> str:
        """One line per unmatched text with its suggestions, after a summary line.

        Example:
            >>> print(match_class_names(["owl", "dog barkin"], ("dog barking",)).format())
            label matching 'exact': 0 of 2 texts matched a class; 2 did not:
              'owl': no close class
              'dog barkin': did you mean 'dog barking'?
        """
        found = sum(index is not None for index in self.indices)
        lines = [
            f"label matching {self.strategy!r}: {found} of {len(self.texts)} texts matched a "
            f"class" + (f"; {len(self.unmatched)} did not:" if self.unmatched else "")
        ]
        for text in self.unmatched:
            close = self.suggestions.get(text, ())
            hint = " or ".join(map(repr, close))
            lines.append(f"  {text!r}: " + (f"did you mean {hint}?" if close else "no close class"))
        return "\n".join(lines)


def match_class_names(
    texts: Iterable[str],
    class_names: Sequence[str],
    strategy: LabelMatching = DEFAULT_STRATEGY,
    *,
    suggestions: int = 3,
) -> MatchReport:
    """Match texts to classes with a strategy (see the module docstring).

    Args:
        texts: Predicted class names (free text).
        class_names: The classes, in ``classes.csv`` order.
        strategy: ``"exact"``, ``"normalized"``, ``"aliases"``, a dict or a callable.
        suggestions: How many near classes to suggest per unmatched text.

    Raises:
        OptionError: Unknown strategy, or a text that is not a string.
    """
    texts = tuple(texts)
    odd = next((text for text in texts if not isinstance(text, str)), None)
    if odd is not None:
        raise OptionError(f"label matching: {odd!r} ({type(odd).__name__}) is not a text")
    class_names = tuple(class_names)
    lookup = class_lookup(class_names, strategy)
    indices = tuple(lookup(text) for text in texts)
    unmatched = tuple(
        dict.fromkeys(text for text, index in zip(texts, indices, strict=True) if index is None)
    )
    near = {text: suggest_classes(text, class_names, suggestions) for text in unmatched}
    return MatchReport(texts, indices, class_names, strategy_name(strategy), unmatched, near)


def match_label_sets(
    label_sets: Mapping[str, Mapping[str, Any]],
    class_names: Sequence[str],
    strategy: LabelMatching = DEFAULT_STRATEGY,
) -> Mapping[str, Mapping[str, Any]]:
    """``{input: {video_id: labels}}`` with every matched text replaced by its class index.

    Texts that match no class stay as they are, so the usual unknown-label count and warning
    report them; values that are not lists or tuples are left for the usual checks. With
    ``"exact"`` the input is returned unchanged (the reference's behaviour, no copy).

    Example:
        >>> match_label_sets({"a": {"x_000001": ["Dog", "owl", 0]}}, ("dog", "cat"), "normalized")
        {'a': {'x_000001': [0, 'owl', 0]}}
    """
    if isinstance(strategy, str) and strategy == DEFAULT_STRATEGY:
        return label_sets
    lookup = class_lookup(class_names, strategy)

    def matched(labels: Any) -> Any:
        if not isinstance(labels, list | tuple):
            return labels
        found = [lookup(label) if isinstance(label, str) else None for label in labels]
        return [
            label if index is None else index for label, index in zip(labels, found, strict=True)
        ]

    return {
        modality: (
            {video_id: matched(labels) for video_id, labels in per_clip.items()}
            if isinstance(per_clip, Mapping)
            else per_clip
        )
        for modality, per_clip in label_sets.items()
    }
