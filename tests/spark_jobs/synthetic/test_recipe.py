"""Synthetic recipes: shipped files validate, mistakes are one line naming the key, and a
sample's id depends on what decides its content, not on how the endpoint is called."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from spark_jobs.config_files import ConfigError
from spark_jobs.settings import Settings
from spark_jobs.synthetic.recipe import SyntheticRecipe, load_recipes, template_hash

BASE = {
    "name": "t",
    "source": {"table": "curated.web", "where": "language = 'en'"},
    "transformation": {"kind": "rephrase", "template": "r", "styles": ["wiki", "qa"]},
    "templates": {"r": "Rewrite as {style}:\n{text}"},
    "generator": {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
}


def recipe(**changes) -> SyntheticRecipe:
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = data
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return SyntheticRecipe.from_dict(data)


def test_shipped_recipes_validate():
    recipes = load_recipes(Settings().synthetic_dir)
    assert {"web-rephrase", "web-qa"} <= set(recipes)
    assert len(recipes["web-rephrase"].variants()) == 2


def test_sample_id_ignores_how_the_endpoint_is_called():
    a = recipe()
    b = recipe(requests__concurrency=64, requests__retries=0, generator__base_url="http://h:1/v1")
    variant = a.variants()[0]
    assert a.sample_id("doc", variant) == b.sample_id("doc", variant)


@pytest.mark.parametrize(
    "change",
    [
        {"templates__r": "Say it as {style}: {text}"},
        {"sampling__temperature": 0.1},
        {"generator__model": "other"},
        {"seed": 3},
        {"source__where": "language = 'de'"},
    ],
)
def test_sample_id_changes_with_content(change):
    base, changed = recipe(), recipe(**change)
    v = base.variants()[0]
    assert base.sample_id("doc", v) != changed.sample_id("doc", changed.variants()[0])


def test_variants_have_distinct_ids_and_prompts():
    r = recipe()
    ids = {r.sample_id("doc", v) for v in r.variants()}
    assert len(ids) == 2
    prompt = r.prompt(r.variants()[1], "a {brace} text")
    assert prompt == "Rewrite as qa:\na {brace} text"


def test_template_hash_covers_the_system_message():
    assert template_hash("x {text}") != template_hash("x {text}", "be brief")
    assert recipe(system="be brief").template_hash != recipe().template_hash


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"templates__r": "no text here {style}"}, "templates.r: the template never uses {text}"),
        ({"templates__r": "{text} {colour}"}, "templates.r: unknown placeholder {colour}"),
        ({"transformation__template": "rr"}, "transformation.template: 'rr' is not a template"),
        ({"source__table": "curated.wbe"}, "(did you mean curated.web?)"),
        ({"generator__api_key_env": "sk-123abc"}, "is not an environment variable name"),
        ({"generator__base_url": "http://u:p@h/v1"}, "credentials in the URL"),
        ({"source__where": "1=1; DROP TABLE x"}, "is not one predicate"),
        ({"transformation__styles": None}, "transformation.styles: required key missing"),
        ({"requests__concurrency": 0}, "requests.concurrency: 0 is too small"),
    ],
)
def test_mistakes_are_one_line_naming_the_key(change, message):
    with pytest.raises(ConfigError) as error:
        recipe(**change)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_yaml_mistake_names_file_and_line(tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_text(
        "source: {table: curated.web}\n"
        "transformation: {kind: rephrase, template: r, styles: [a]}\n"
        "templates: {r: '{text}'}\n"
        "generator: {base_url: 'http://h/v1', model: m, temprature: 1}\n"
    )
    with pytest.raises(ConfigError, match=r"x.yaml:4: generator.temprature: unknown key"):
        SyntheticRecipe.from_yaml(path)


def test_api_key_comes_from_the_named_variable(monkeypatch):
    r = recipe(generator__api_key_env="PILEHOUSE_TEST_GEN_KEY")
    monkeypatch.delenv("PILEHOUSE_TEST_GEN_KEY", raising=False)
    with pytest.raises(RuntimeError, match=r"PILEHOUSE_TEST_GEN_KEY .* is not set"):
        r.api_key()
    monkeypatch.setenv("PILEHOUSE_TEST_GEN_KEY", "secret")
    assert r.api_key() == "secret"
