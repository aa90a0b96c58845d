from spark_jobs.annotators.language import identify_language, lid_model_path


def test_model_ships_inside_installed_package():
    assert lid_model_path().name == "lid.176.ftz"
    assert lid_model_path().stat().st_size > 500_000


def test_identifies_english_and_german_prose():
    english = "The interpreter reads the whole module before it runs any of the statements in it."
    german = "Der Interpreter liest das ganze Modul, bevor er eine der Anweisungen darin ausführt."
    assert identify_language(english)[0] == "en"
    lang, score = identify_language(german)
    assert lang == "de" and score > 0.8


def test_multiline_text_is_scored_as_a_whole_and_empty_text_is_undetermined():
    text = "Bonjour à tous.\nNous parlons français ici.\nC'est une belle journée."
    assert identify_language(text)[0] == "fr"
    assert identify_language("   \n ") == ("und", 0.0)
