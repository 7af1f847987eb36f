"""The self-similarity content loss: zero at the photo, blind to what each place looks like on its own,
alert to the layout, minimisable; and the settings and runs that use it."""

import pytest
import torch

from impasto import ImpastoError, Settings, Stylizer, stylize
from impasto.defaults import resolve
from impasto.losses.similarity import SelfSimilarityLoss, sample_positions


def loss_of(target: torch.Tensor, seed: int = 0) -> SelfSimilarityLoss:
    return SelfSimilarityLoss(target, sample_positions(256, seed))


def test_zero_for_the_photo_itself_and_positive_for_another_layout():
    photo = torch.rand(1, 16, 20, 20)
    loss = loss_of(photo)
    assert loss(photo).item() == pytest.approx(0, abs=1e-6)
    assert loss(torch.rand(1, 16, 20, 20)).item() > 0.1


def test_rescaling_each_place_or_the_whole_map_changes_nothing():
    photo = torch.rand(1, 16, 20, 20)
    per_place = torch.rand(1, 1, 20, 20) * 5 + 0.1  # each position brighter or darker by its own factor
    loss = loss_of(photo)
    assert loss(photo * per_place).item() == pytest.approx(0, abs=1e-5)
    assert loss(photo * 1000).item() == pytest.approx(0, abs=1e-5)


def test_moving_the_layout_costs_what_a_new_look_does_not():
    photo = torch.rand(1, 16, 20, 20)
    loss = loss_of(photo)
    shifted = torch.roll(photo, shifts=7, dims=-1)
    assert loss(shifted).item() > 0.1
    assert loss(photo * 2).item() < 1e-5


def test_the_same_seed_draws_the_same_positions_at_every_scale():
    assert torch.equal(sample_positions(64, 3), sample_positions(64, 3))
    assert not torch.equal(sample_positions(64, 3), sample_positions(64, 4))
    small = torch.rand(1, 4, 10, 10)
    large = torch.nn.functional.interpolate(small, scale_factor=2, mode="nearest")
    # the same relative positions fall on the same cells of the doubled map
    assert torch.allclose(loss_of(small).target, loss_of(large).target, atol=1e-6)


def test_gradient_descent_lowers_the_loss():
    photo = torch.rand(1, 8, 12, 12)
    loss = loss_of(photo)
    features = torch.rand(1, 8, 12, 12, requires_grad=True)
    optimizer = torch.optim.Adam([features], lr=0.02)
    first = loss(features).item()
    for _ in range(60):
        optimizer.zero_grad()
        loss(features).backward()
        optimizer.step()
    assert loss(features).item() < 0.6 * first


def test_its_default_layers_are_the_content_and_style_layers_shallow_to_deep():
    feature = resolve(Settings(model="squeezenet1_1"))
    similar = resolve(Settings(model="squeezenet1_1", content_loss="self-similarity"))
    assert feature.content_layers == ("fire4",)
    assert similar.content_layers == ("relu1", "fire2", "fire3", "fire4", "fire5")
    chosen = resolve(Settings(model="squeezenet1_1", content_loss="self-similarity", content_layers=("fire3",)))
    assert chosen.content_layers == ("fire3",)


@pytest.mark.slow
def test_a_run_from_noise_moves_toward_the_photos_layout(content_path, style_path, squeezenet_weights):
    events = []
    settings = Settings(
        model="squeezenet1_1",
        weights=str(squeezenet_weights),
        size=64,
        iterations=25,
        init="gaussian",
        content_loss="self-similarity",
        style_weight=0,
        stop_tolerance=0,
    )
    Stylizer(settings).run(content_path, style_path, callback=events.append)
    assert events[-1].losses["content"] < 0.8 * events[0].losses["content"]


def test_it_has_no_tiled_form_and_says_which_settings_tile(content_path, style_path, squeezenet_weights):
    settings = Settings(
        model="squeezenet1_1",
        weights=str(squeezenet_weights),
        size=80,
        iterations=2,
        precision="fp32",
        style_loss="gram-relative",
        content_loss="self-similarity",
        max_memory=0.004,
    )
    with pytest.raises(ImpastoError, match="content-loss feature"):
        stylize(content_path, style_path, settings)
