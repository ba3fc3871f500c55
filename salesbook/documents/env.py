"""The one Jinja environment every document template runs in, and the errors templates can raise.

Templates are user-editable files, so they run in Jinja's immutable sandbox (no ``__class__``,
no ``__globals__``, no mutating the data) with strict undefined: a field the data lacks is a
clear ``TemplateFieldMissing`` naming the field and the template, never a blank in a contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import StrictUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from markupsafe import Markup

from .filters import FILTERS

__all__ = [
    "DocumentError",
    "TemplateFieldMissing",
    "TemplateInvalid",
    "TemplateSecurityError",
    "check_context",
    "check_template_safety",
    "checked_env",
    "make_env",
    "render_guard",
    "required_variables",
]

T = TypeVar("T")

# Names a template has no business reaching for: modules and interpreter internals.
FORBIDDEN_NAMES = frozenset(
    {
        "os",
        "sys",
        "subprocess",
        "builtins",
        "importlib",
        "shutil",
        "socket",
        "pathlib",
        "io",
        "open",
        "eval",
        "exec",
        "compile",
        "getattr",
        "globals",
        "locals",
        "vars",
    }
)


class DocumentError(Exception):
    """A document could not be produced."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)
        doc = type(self).__doc__ or ""
        super().__init__(doc.format(**fields).strip())


class TemplateFieldMissing(DocumentError):
    """Template {template} uses the field {field!r}, which the data does not provide. Hint: add {field!r} to the data, or fix the spelling of the field in the template."""


class TemplateSecurityError(DocumentError):
    """Template {template} tried something unsafe ({detail}); templates may only read the data they are given. Hint: remove that expression from the template."""


class TemplateInvalid(DocumentError):
    """Template {template} is not a valid template: {detail}. Hint: check the {{{{ }}}} and {{% %}} tags near that line."""


class _MissingField(UndefinedError):
    """Raised by the strict undefined; carries the missing name."""

    def __init__(self, message: str | None, field: str | None) -> None:
        super().__init__(message)
        self.field = field


class FieldUndefined(StrictUndefined):
    """StrictUndefined that remembers which name was missing, and keeps sandbox violations apart."""

    __slots__ = ()

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        if issubclass(self._undefined_exception, SecurityError):
            raise SecurityError(self._undefined_message)
        raise _MissingField(self._undefined_message, self._undefined_name)


# StrictUndefined binds its dunders to Undefined's function object; rebind them to ours.
for _name in set(vars(Undefined)) | set(vars(StrictUndefined)):
    if _name.startswith("__") and (
        vars(Undefined).get(_name) is Undefined._fail_with_undefined_error
        or vars(StrictUndefined).get(_name) is Undefined._fail_with_undefined_error
    ):
        setattr(FieldUndefined, _name, FieldUndefined._fail_with_undefined_error)


# Characters XML 1.0 forbids; \t \n \r stay, and \a \f too (docxtpl turns them into paragraph/page breaks).
_XML_INVALID = re.compile("[\x00-\x06\x08\x0b\x0e-\x1f\ufffe\uffff]")


def _finalize(value: Any) -> Any:
    """Drop characters that would corrupt document.xml (data pasted from Excel may carry them)."""
    if isinstance(value, str) and not isinstance(value, Markup):  # Markup: macro output, already clean
        return _XML_INVALID.sub("", value)
    return value


def make_env(*, autoescape: bool = True, extra_filters: Mapping[str, Callable[..., Any]] | None = None):
    """A sandboxed, strict Jinja environment with the salesbook filters.

    ``autoescape`` is on by default: HTML needs it, and so does docx XML (a customer called
    "A&B" would otherwise break document.xml).
    """
    env = ImmutableSandboxedEnvironment(
        undefined=FieldUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(FILTERS)
    if extra_filters:
        env.filters.update(extra_filters)
    return env


def checked_env(env: jinja2.Environment | None) -> jinja2.Environment:
    """The given environment if it is safe for our templates, else a TypeError; None -> make_env().

    It must be sandboxed with a strict undefined. Autoescape is forced on (as an overlay), since
    both HTML and docx XML break on unescaped "&" or "<" in the data.
    """
    if env is None:
        return make_env()
    if not isinstance(env, SandboxedEnvironment):
        raise TypeError(
            "document templates need a sandboxed environment: use salesbook.documents.env.make_env()"
        )
    if not issubclass(env.undefined, StrictUndefined):
        raise TypeError("document templates need StrictUndefined: use salesbook.documents.env.make_env()")
    if env.autoescape is not True:
        env = env.overlay(autoescape=True)
    return env


def check_template_safety(ast: nodes.Template, template: str | Path) -> None:
    """Refuse, before rendering, a template that reaches for dunders, private attributes or modules."""
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise TemplateSecurityError(template=str(template), detail=f"attribute {node.attr!r}")
        if (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            raise TemplateSecurityError(template=str(template), detail=f"item {node.arg.value!r}")
        if isinstance(node, nodes.Name) and (node.name.startswith("_") or node.name in FORBIDDEN_NAMES):
            raise TemplateSecurityError(template=str(template), detail=f"name {node.name!r}")


def parse_checked(env: jinja2.Environment, source: str, template: str | Path) -> nodes.Template:
    """Parse a template source, turning syntax errors and unsafe expressions into our errors."""
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(template=str(template), detail=f"{exc.message} (line {exc.lineno})") from None
    check_template_safety(ast, template)
    return ast


def required_variables(template: str | Path, env: jinja2.Environment | None = None) -> set[str]:
    """The top-level names a template needs from the data (a .docx or a text/HTML template).

    Run it once before rendering many documents; ``check_context`` compares it with one context.
    Raises TemplateSecurityError / TemplateInvalid for an unsafe or broken template.
    """
    env = checked_env(env)
    path = Path(template)
    if path.suffix.lower() == ".docx":
        from docxtpl import DocxTemplate

        from .contracts import docx_template_source

        parse_checked(env, docx_template_source(path), path)
        names = DocxTemplate(str(path)).get_undeclared_template_variables(env)
    else:
        names = meta.find_undeclared_variables(parse_checked(env, path.read_text(encoding="utf-8"), path))
    return set(names) - set(env.globals)


def check_context(needed: Iterable[str], context: Mapping[str, Any], template: str | Path) -> None:
    """Raise TemplateFieldMissing for the first (alphabetical) needed name the context lacks."""
    missing = sorted(set(needed) - set(context))
    if missing:
        raise TemplateFieldMissing(field=missing[0], template=str(template))


def render_guard(template: str | Path, render: Callable[[], T]) -> T:
    """Run a render call, turning Jinja failures into our named errors that name the template."""
    try:
        return render()
    except _MissingField as exc:
        raise TemplateFieldMissing(field=exc.field or str(exc.message), template=str(template)) from None
    except SecurityError as exc:
        raise TemplateSecurityError(template=str(template), detail=str(exc)) from None
    except UndefinedError as exc:
        raise TemplateFieldMissing(field=str(exc.message), template=str(template)) from None
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(template=str(template), detail=f"{exc.message} (line {exc.lineno})") from None
    except TemplateError as exc:
        raise TemplateInvalid(template=str(template), detail=str(exc)) from None
