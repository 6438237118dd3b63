"""Every hook strm has is documented in the plugin guide and exercised by a test.

A hook added to ``strm/kernel/hookspecs.py`` without a section in ``docs/plugins.md`` or without a
test that names it fails here, as does a section about a hook that no longer exists.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from strm.kernel import hookspecs, records
from strm.kernel.records import KINDS

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "plugins.md"
HOOKS = hookspecs.hook_names()

_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_HOOK_HEADING = re.compile(r"^#{2,4} `(strm_\w+)\(", re.MULTILINE)


def guide() -> str:
    return GUIDE.read_text()


def headings(text: str) -> list[str]:
    return [line for line in _FENCE.sub("", text).splitlines() if line.startswith("#")]


def code(text: str) -> str:
    """The guide's code: fenced blocks and inline code spans."""
    blocks = _FENCE.findall(text)
    spans = _INLINE_CODE.findall(_FENCE.sub("", text))
    return "\n".join([*blocks, *spans])


def signature(hook: str) -> str:
    """``strm_partitions_assigned(app, assigned)``: the hook with its parameter names."""
    params = inspect.signature(getattr(hookspecs, hook)).parameters
    return f"{hook}({', '.join(params)})"


def files_of_tests() -> list[Path]:
    """Test modules of the kernel, the first-party plugins and this directory, but not this one."""
    this = Path(__file__).resolve()
    patterns = ("tests/**/*.py", "core/tests/**/*.py", "plugins/*/tests/**/*.py")
    return [
        path
        for pattern in patterns
        for path in sorted(ROOT.glob(pattern))
        if path.resolve() != this and "/." not in str(path.relative_to(ROOT))
    ]


def test_there_are_hooks_and_they_are_all_named_strm() -> None:
    assert len(HOOKS) >= 19
    assert all(name.startswith("strm_") for name in HOOKS)
    assert set(KINDS.values()) <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_in_the_guide(hook: str) -> None:
    assert any(hook in heading for heading in headings(guide())), (
        f"docs/plugins.md has no section about {hook}"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_the_guide_shows_every_hook_with_its_parameters(hook: str) -> None:
    assert signature(hook) in code(guide()), f"docs/plugins.md does not show {signature(hook)}"


def test_the_guide_has_no_section_about_a_hook_that_does_not_exist() -> None:
    documented = _HOOK_HEADING.findall(_FENCE.sub("", guide()))
    assert documented, "the hook sections are headed like ### `strm_stores() -> ...`"
    assert sorted(set(documented) - set(HOOKS)) == []
    assert len(documented) == len(set(documented)), "a hook has two sections"


@pytest.mark.parametrize(
    "helper",
    sorted(
        name
        for name, obj in vars(records).items()
        if inspect.isfunction(obj) and obj.__module__ == records.__name__
    ),
)
def test_the_guide_names_every_record_helper(helper: str) -> None:
    assert f"records.{helper}(" in code(guide())


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_guide_names_every_provision_kind(kind: str) -> None:
    assert f"'{kind}'" in code(guide()) or f'"{kind}"' in code(guide())


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook: str) -> None:
    users = [path for path in files_of_tests() if hook in path.read_text()]
    assert users, f"no test under tests/, core/tests/ or plugins/*/tests/ names {hook}"


def test_the_test_file_search_finds_this_directorys_tests() -> None:
    found = {path.relative_to(ROOT).as_posix() for path in files_of_tests()}
    assert "tests/plugins/test_loading.py" in found
    assert "tests/test_hookspec_meta.py" not in found
