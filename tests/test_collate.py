"""Training-friendly data (issue 14, item 6): multi-hot targets of chosen label modalities,
and a collate function for the ragged columns, so that ``DataLoader(dataset.with_format(
"torch"), collate_fn=...)`` works; one training step with it."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from vggsounder_hf.core.schema import MODALITY_NAMES
from vggsounder_hf.hf.collate import VGGSounderCollator, collate_vggsounder
from vggsounder_hf.hf.multi_hot import multi_hot_labels, with_multi_hot_labels

torch = pytest.importorskip("torch")
DataLoader = torch.utils.data.DataLoader
AUDIBLE, VISIBLE = ("A", "AV"), ("V", "AV")


@pytest.fixture(scope="module")
def clips(prepared_releases):
    """200 clips of release 1.0, every column the dataset has."""
    return prepared_releases["1.0"].select(range(200))


def _expected(split, chosen) -> np.ndarray:
    codes = {MODALITY_NAMES.index(name) for name in chosen}
    vectors = np.zeros((len(split), 309), np.float32)
    for row, (labels, modalities) in enumerate(
        zip(split["labels"], split["modalities"], strict=True)
    ):
        for label, modality in zip(labels, modalities, strict=True):
            if modality in codes:
                vectors[row, label] = 1.0
    return vectors


@pytest.mark.parametrize("chosen", [AUDIBLE, VISIBLE, MODALITY_NAMES, ("AV",)])
def test_multi_hot_targets_of_chosen_modalities(clips, chosen):
    mapped = with_multi_hot_labels(clips, modalities=chosen)
    assert np.array_equal(mapped.with_format("numpy")[:]["labels"], _expected(clips, chosen))
    assert mapped.column_names == clips.column_names


def test_audible_and_visible_targets_differ_and_cover_all_labels_together(clips):
    audible = with_multi_hot_labels(clips, modalities=AUDIBLE).with_format("numpy")[:]["labels"]
    visible = with_multi_hot_labels(clips, modalities=VISIBLE).with_format("numpy")[:]["labels"]
    every = with_multi_hot_labels(clips).with_format("numpy")[:]["labels"]
    assert not np.array_equal(audible, visible)
    assert np.array_equal(np.maximum(audible, visible), every)


def test_modalities_by_name_or_code_in_one_example_or_a_batch():
    one = multi_hot_labels(
        {"labels": [0, 2, 1], "modalities": ["A", "V", "AV"]}, num_classes=3, modalities=VISIBLE
    )
    assert one["labels"].tolist() == [0.0, 1.0, 1.0]
    batch = multi_hot_labels(
        {"labels": [[0], [2, 1]], "modalities": [[0], [1, 2]]}, num_classes=3, modalities="A"
    )
    assert batch["labels"].tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


@pytest.mark.parametrize(
    ("batch", "modalities", "message"),
    [
        ({"labels": [[0]]}, AUDIBLE, r"no column 'modalities'"),
        ({"labels": [[0]], "modalities": [[5]]}, AUDIBLE, r"holds 5, not one of"),
        ({"labels": [[0, 1]], "modalities": [[0]]}, AUDIBLE, r"2 labels but 1 modalities"),
        ({"labels": [[0]], "modalities": [[0]]}, ("audible",), r"modalities must name label"),
        ({"labels": [[0]], "modalities": [[0]]}, (), r"modalities must name label"),
    ],
)
def test_bad_modalities_are_refused_with_a_clear_message(batch, modalities, message):
    with pytest.raises(ValueError, match=message):
        multi_hot_labels(batch, num_classes=3, modalities=modalities)


def test_a_bad_modality_choice_fails_before_any_row_is_mapped(clips):
    with pytest.raises(ValueError, match="modalities must name label modalities"):
        with_multi_hot_labels(clips, modalities=("a", "av"))


# --------------------------------------------------------------------------- collate


def test_the_default_collate_fails_on_the_ragged_columns_and_ours_batches_them(clips):
    dataset = with_multi_hot_labels(clips, output_column="targets").with_format("torch")
    with pytest.raises(RuntimeError):
        next(iter(DataLoader(dataset, batch_size=8)))
    batch = next(iter(DataLoader(dataset, batch_size=8, collate_fn=collate_vggsounder)))
    assert batch["targets"].shape == (8, 309) and batch["targets"].dtype == torch.float32
    assert batch["video_id"] == clips["video_id"][:8]
    assert batch["voice_over"].dtype == torch.bool and batch["voice_over"].shape == (8,)
    longest = max(len(labels) for labels in clips["labels"][:8])
    assert batch["labels"].shape == batch["modalities"].shape == (8, longest)
    for row, labels in enumerate(clips["labels"][:8]):
        padded = batch["labels"][row].tolist()
        assert padded == labels + [-1] * (longest - len(labels))


def test_ragged_columns_as_lists_strings_none_and_mappings():
    collate = VGGSounderCollator(ragged="list")
    rows = [
        {"labels": torch.tensor([1, 2]), "audio": {"path": "a.wav", "rate": 16000}, "v": None},
        {"labels": torch.tensor([3]), "audio": {"path": "b.wav", "rate": 16000}, "v": None},
    ]
    batch = collate(rows)
    assert [t.tolist() for t in batch["labels"]] == [[1, 2], [3]]
    assert batch["audio"]["path"] == ["a.wav", "b.wav"]
    assert batch["audio"]["rate"].tolist() == [16000, 16000]
    assert batch["v"] == [None, None]
    assert pickle.loads(pickle.dumps(collate)) == collate  # DataLoader workers pickle it


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: VGGSounderCollator(ragged="truncate"), "ragged must be one of"),
        (lambda: collate_vggsounder([]), "empty batch"),
        (lambda: collate_vggsounder([{"a": 1}, {"b": 2}]), r"do not all have the column"),
        (lambda: collate_vggsounder([[1, 2]]), "takes rows"),
    ],
)
def test_bad_batches_and_options_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_streaming_rows_with_audible_targets_batch_too():
    from vggsounder_hf.hf.loading import load_vggsounder

    stream = load_vggsounder("1.0", streaming=True)
    dataset = with_multi_hot_labels(stream, modalities=AUDIBLE).with_format("torch")
    batch = next(iter(DataLoader(dataset, batch_size=4, collate_fn=collate_vggsounder)))
    assert batch["labels"].shape == (4, 309)
    assert batch["modalities"].shape[0] == 4 and len(batch["video_id"]) == 4


# --------------------------------------------------------------------------- one step


def test_one_training_step_through_a_dataloader(clips):
    """Audible targets, synthetic audio features, a linear head: one optimiser step."""
    rng = np.random.default_rng(0)
    projection = rng.standard_normal((309, 16)).astype(np.float32)
    audible = _expected(clips, AUDIBLE)
    features = audible @ projection + 0.1 * rng.standard_normal((len(clips), 16)).astype(np.float32)
    dataset = with_multi_hot_labels(clips, modalities=AUDIBLE)
    dataset = dataset.add_column("audio_features", features.tolist()).with_format("torch")
    loader = DataLoader(dataset, batch_size=32, shuffle=True, collate_fn=collate_vggsounder)
    torch.manual_seed(0)
    model = torch.nn.Linear(16, 309)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.5)
    batch = next(iter(loader))
    before = [parameter.detach().clone() for parameter in model.parameters()]
    loss_fn = torch.nn.functional.binary_cross_entropy_with_logits
    loss = loss_fn(model(batch["audio_features"]), batch["labels"])
    loss.backward()
    optimiser.step()
    optimiser.zero_grad()
    after = loss_fn(model(batch["audio_features"]), batch["labels"])
    assert torch.isfinite(loss) and after < loss
    assert all(
        not torch.equal(old, new) for old, new in zip(before, model.parameters(), strict=True)
    )
    rows = np.asarray([clips["video_id"].index(video_id) for video_id in batch["video_id"]])
    assert np.array_equal(batch["labels"].numpy(), audible[rows])  # targets follow the rows
