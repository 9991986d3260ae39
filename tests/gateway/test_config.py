from pathlib import Path

import pytest

from gateway.config import ConfigError, load_settings


def test_embedded_defaults_need_no_file():
    settings = load_settings(environ={})
    assert [b.name for b in settings.backends] == ["faq"]
    assert settings.routes[0].match == "*"
    assert settings.service.hotline == "12345"


def test_file_values_are_read(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text(
        """
[server]
port = 9001

[[backends]]
name = "kb"
type = "faq"
min_confidence = 0.4

[[routes]]
match = "*"
backends = ["kb"]
""",
        encoding="utf-8",
    )
    settings = load_settings(path, environ={})
    assert settings.server.port == 9001
    assert settings.backend("kb").options == {"min_confidence": 0.4}


def test_environment_overrides_any_key(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text('[[backends]]\nname = "kb"\ntype = "faq"\n[[routes]]\nbackends = ["kb"]\n')
    settings = load_settings(
        path,
        environ={
            "GATEWAY_SERVER__PORT": "9100",
            "GATEWAY_SERVICE__HOTLINE": "12345",
            "GATEWAY_BACKENDS__KB__MIN_CONFIDENCE": "0.3",
            "GATEWAY_BACKENDS__STATIC__TYPE": "static",
            "GATEWAY_ROUTES__0__BACKENDS": '["static", "kb"]',
            "UNRELATED": "x",
        },
    )
    assert settings.server.port == 9100
    assert settings.service.hotline == "12345"
    assert settings.backend("kb").options["min_confidence"] == "0.3"  # its type converts it
    assert settings.backend("static").type == "static"
    assert settings.routes[0].backends == ["static", "kb"]


def test_environment_overrides_the_default_backends():
    settings = load_settings(environ={"GATEWAY_BACKENDS__FAQ__MIN_CONFIDENCE": "0.7"})
    assert settings.backend("faq").options == {"min_confidence": "0.7"}


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("[server]\nport = 'abc'", {}, "server.port"),
        ("[server\n", {}, "c.toml"),
        ("[nonsense]\nx = 1", {}, "nonsense"),
        ("", {"GATEWAY_ROUTES__5__MATCH": "*"}, "no item 5"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path: Path, text, environ, message):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ=environ)


def test_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_example_configuration_is_valid():
    example = Path(__file__).parents[2] / "config.example.toml"
    settings = load_settings(example, environ={})
    assert settings.backends


def test_frame_ancestors_default_to_this_site_and_are_written_as_browsers_compare_them():
    assert load_settings(environ={}).security.frame_ancestors == ["'self'"]
    sources = load_settings(
        environ={
            "GATEWAY_SECURITY__FRAME_ANCESTORS": '["\'self\'", "HTTPS://WWW.Example.gov.cn/", '
            '"https://*.example.gov.cn:443", "http://127.0.0.1:8080", "*"]'
        }
    ).security.frame_ancestors
    assert sources == [
        "'self'",
        "https://www.example.gov.cn",
        "https://*.example.gov.cn",  # the default port is not part of an origin
        "http://127.0.0.1:8080",
        "*",
    ]


@pytest.mark.parametrize(
    "source",
    [
        "www.example.gov.cn",  # no scheme
        "https://www.example.gov.cn/zwfw",  # a path
        "https://example.gov.cn; script-src *",  # another directive
        "self",  # unquoted keyword
        "ftp://example.gov.cn",
        "https://exa..mple.cn",
        "https://*",
    ],
)
def test_frame_ancestors_refuse_what_is_not_an_origin(source):
    with pytest.raises(ConfigError, match="frame_ancestors"):
        load_settings(environ={"GATEWAY_SECURITY__FRAME_ANCESTORS": f'["{source}"]'})


def test_several_workers_without_redis_are_told_they_share_nothing(make_settings):
    from gateway.cli import unshared_workers

    assert unshared_workers(make_settings(), 1) is None
    assert "reload reaches only" in (unshared_workers(make_settings(), 2) or "")
    shared = make_settings('[redis]\nurl = "redis://127.0.0.1:6379/0"\n')
    assert unshared_workers(shared, 4) is None
