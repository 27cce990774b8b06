"""Typed profiles (issue 33 item 1): every number of a profile lives in a named, validated
field; a typo fails when the profile is built, naming the key; the paper's recipe is data."""
import dataclasses

import pytest

from ctlib.config import (MODELS, PROFILES, CampaignPlan, Recipe, Sizes, TrainConfig, _check_profiles,
                          base_recipe)
from ctlib.experiments import train_config


def test_a_misspelt_section_key_names_the_key():
    with pytest.raises(TypeError, match="n_bakend"):
        Sizes(n_bakend=4000)
    with pytest.raises(TypeError, match="campaign_onyl"):
        CampaignPlan(campaign_onyl=True)
    with pytest.raises(TypeError, match="extra"):
        PROFILES["smoke"].replace(extra={})


@pytest.mark.parametrize("make, words", [
    (lambda: Recipe(base="papr"), "Recipe.base"),
    (lambda: Recipe(train={"cgcn": {"lr": 1e-3}}), "Recipe.train: unknown model"),
    (lambda: Sizes(n_backend=0), "Sizes.n_backend"),
    (lambda: Sizes(pretraining_fractions=(0.5, 1.5)), "pretraining_fractions"),
    (lambda: CampaignPlan(last_tier=12), "last_tier"),
    (lambda: CampaignPlan(table2_backs=("cgcnn", "ct2")), "table2_backs"),
])
def test_a_bad_section_value_names_the_field(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_an_unknown_train_key_in_a_profile_fails_the_import_check(monkeypatch):
    smoke = PROFILES["smoke"]
    bad = smoke.replace(recipe=dataclasses.replace(smoke.recipe, train={"ct": {"max_token": 256}}))
    monkeypatch.setitem(PROFILES, "smoke", bad)
    with pytest.raises(ValueError, match=r"recipe.train\['ct'\].*max_token"):
        _check_profiles()


def test_base_recipes_are_valid_train_configs_and_the_paper_ct_recipe_is_the_authors():
    for recipe in ("paper", "short"):
        for m in MODELS:
            for n_tasks in (1, 2):
                TrainConfig.from_dict(base_recipe(recipe, m, n_tasks))
    single, multi = base_recipe("paper", "ct", 1), base_recipe("paper", "ct", 2)
    assert (single["optimizer"], single["lr"], single["step_size"], single["gamma"]) == ("sgd", 1e-4, 10, 0.96)
    assert (multi["lr"], multi["step_size"], multi["gamma"]) == (6e-3, 20, 0.5)
    with pytest.raises(ValueError, match="unknown recipe"):
        base_recipe("fast", "ct")


def test_train_config_reads_the_recipe_sections():
    cpu = train_config("ct", "cpu", 2, transfer=True)
    assert cpu["epochs"] == 30 and cpu["lr"] == 1e-4 and cpu["scheduler"] == "cosine"
    assert cpu["embedding_lr"] == 1e-5 and cpu["precision"] == "bf16"
    assert train_config("cgcnn", "cpu", front=True)["epochs"] == 30
    assert train_config("ct", "paper", 2)["optimizer"] == "sgd"
    assert train_config("cgcnn", "quick")["scheduler"] == "onecycle"
