"""Neural-neighbour targets: each photo vector takes the artwork vector of highest cosine similarity
(chunking changes nothing), and the cosine loss is zero at its target and falls as the output moves
towards it; unequal style blends are refused in one line."""

import pytest
import torch

from impasto import Settings, Stylizer
from impasto.errors import ImpastoError
from impasto.losses.kinds import STYLE_LOSSES, StyleTargets
from impasto.losses.neighbours import NeighbourStyleLoss, nearest_indices, neighbour_target


def test_each_query_takes_the_key_of_highest_cosine_similarity_not_the_closest_in_space():
    keys = torch.tensor([[1.0, 0.0, 10.0], [0.0, 1.0, 9.0]])  # columns: (1, 0), (0, 1), (10, 9)
    queries = torch.tensor([[2.0, 0.1, 5.0, 1.0], [0.1, 3.0, 5.0, 1.1]])  # (2, .1), (.1, 3), (5, 5), (1, 1.1)
    # (5, 5) is nearest (10, 9) by angle; (1, 1.1) is nearer (0, 1) in space but (10, 9) by angle
    assert nearest_indices(queries, keys).tolist() == [0, 1, 2, 2]


def test_chunked_matching_equals_matching_all_at_once():
    generator = torch.Generator().manual_seed(0)
    photo, art = torch.rand(1, 6, 9, 7, generator=generator), torch.rand(1, 6, 5, 8, generator=generator)
    whole = neighbour_target(photo, [art], chunk=10**6)
    assert torch.equal(neighbour_target(photo, [art], chunk=5), whole)
    assert torch.equal(neighbour_target(photo, [art], chunk=1), whole)
    assert whole.shape == (6, 63)


def test_the_target_is_made_of_artwork_vectors_pooled_over_all_artworks():
    photo = torch.rand(1, 4, 6, 6)
    first, second = torch.rand(1, 4, 3, 3), torch.rand(1, 4, 5, 2)
    pool = torch.cat([first.flatten(2)[0], second.flatten(2)[0]], 1)
    target = neighbour_target(photo, [first, second])
    assert all(any(torch.equal(column, key) for key in pool.T) for column in target.T)


def test_the_loss_is_zero_at_its_target_and_falls_under_a_few_optimiser_steps():
    torch.manual_seed(0)
    photo, art = torch.rand(1, 8, 10, 10), torch.rand(1, 8, 12, 12)
    loss = NeighbourStyleLoss(photo, [art])
    at_target = neighbour_target(photo, [art]).reshape(1, 8, 10, 10)
    assert loss(at_target).item() == pytest.approx(0, abs=1e-6)
    assert loss(3 * at_target).item() == pytest.approx(0, abs=1e-6)  # cosine: blind to scale
    output = photo.clone().requires_grad_()
    optimizer = torch.optim.Adam([output], lr=0.05)
    values = []
    for _ in range(5):
        optimizer.zero_grad()
        value = loss(output)
        value.backward()
        optimizer.step()
        values.append(value.item())
    assert values[0] > 0.01 and values[-1] < 0.5 * values[0]


def test_unequal_blends_are_refused_naming_the_setting():
    style = torch.rand(1, 4, 5, 5)
    targets = StyleTargets([style, style], [None, None], [0.75, 0.25], None, seed=0, content=style)
    with pytest.raises(ImpastoError) as error:
        STYLE_LOSSES["nn"].factory(targets)
    assert error.value.setting == "style_blend" and "\n" not in str(error.value)
    equal = StyleTargets([style, style], [None, None], [0.5, 0.5], None, seed=0, content=style)
    assert isinstance(STYLE_LOSSES["nn"].factory(equal), NeighbourStyleLoss)


def test_a_run_with_it_lowers_the_style_loss(content_path, style_path, squeezenet_weights):
    events = []
    settings = Settings(model="squeezenet1_1", weights=str(squeezenet_weights), size=48, iterations=15, style_loss="nn")
    Stylizer(settings).run(content_path, style_path, callback=events.append, stop_tolerance=0)
    assert events[-1].losses["style"] < 0.8 * events[0].losses["style"]
