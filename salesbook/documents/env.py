"""The one Jinja environment every document template runs in, and the errors templates can raise.

Templates are user-editable files, so they run in Jinja's immutable sandbox (no ``__class__``,
no ``__globals__``, no mutating the data) with strict undefined: a field the data lacks is a
clear ``TemplateFieldMissing`` naming the field and the template, never a blank in a contract.
The sandbox also refuses ``**`` and ``*`` that would build huge numbers or strings and large
``range()``s, and never evaluates filters or operators while compiling (Jinja folds constant
expressions at compile time, outside any limit); ``documents.worker`` then renders with time and
memory limits. Every template failure becomes a ``DocumentError`` naming the template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from jinja2 import meta, nodes, pass_context
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import StrictUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg
from markupsafe import Markup

from .docx_source import docx_template_source
from .filters import FILTERS

__all__ = [
    "DocumentError",
    "TemplateFieldMissing",
    "TemplateInvalid",
    "TemplateSecurityError",
    "TemplateTooCostly",
    "TemplateUnsupported",
    "TemplateUnusable",
    "check_context",
    "check_template_file",
    "clean_data",
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


class TemplateUnsupported(DocumentError):
    """Template {template} uses {{% {tag} %}} (line {line}), which salesbook templates cannot use: a template is one self-contained file. Hint: copy the content of the other template into this one."""


class TemplateTooCostly(DocumentError):
    """Template {template} {what}. Hint: look for loops over range(), large repetitions ('x' * n) or powers (10 ** n) in the template."""


class TemplateUnusable(DocumentError):
    """{option} {template}: {detail}. Hint: {hint}"""


WORD_TEMPLATE = "word"
HTML_TEMPLATE = "html"
_TEMPLATE_HINTS = {
    WORD_TEMPLATE: "give a Word .docx contract template (the shipped one is templates/contract_zh.docx; "
                   "`salesbook init` copies it into the workspace to edit)",
    HTML_TEMPLATE: "give an HTML Jinja template such as templates/report.html.j2 (UTF-8 text)",
}


def check_template_file(path: str | Path, kind: str, option: str = "--template") -> Path:
    """Refuse, before any work, a template that is missing, a folder, or not the kind of file asked for.

    A Word template must be a .docx (a zip with word/document.xml: a .doc, a renamed text file or a
    damaged download is not); an HTML template must be UTF-8 text. Returns the path.
    """
    import zipfile

    path = Path(path)
    hint = _TEMPLATE_HINTS[kind]

    def refuse(detail: str) -> None:
        raise TemplateUnusable(option=option, template=path, detail=detail, hint=hint)

    if not path.exists():
        refuse("the file does not exist")
    if path.is_dir():
        refuse("it is a folder, not a template file")
    try:
        if kind == WORD_TEMPLATE:
            if path.suffix.lower() != ".docx":
                refuse(f"a Word template must be a .docx file, not {path.suffix or 'a file without extension'}")
            if not zipfile.is_zipfile(path):
                refuse("it is not a .docx document (not a zip package: damaged, or another format renamed)")
            with zipfile.ZipFile(path) as archive:
                if "word/document.xml" not in archive.namelist():
                    refuse("it is a zip file but not a Word document (no word/document.xml)")
        else:
            data = path.read_bytes()
            if b"\x00" in data[:4096]:
                refuse("it is a binary file, not an HTML template")
            try:
                data.decode("utf-8-sig")
            except UnicodeDecodeError:
                refuse("it is not UTF-8 text; save it as UTF-8")
    except OSError as exc:
        refuse(f"it cannot be read ({exc.strerror or exc})")
    except zipfile.BadZipFile as exc:
        refuse(f"it is a damaged .docx ({exc})")
    return path


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


# Characters XML 1.0 forbids; \t \n \r stay, and \a \f too (docxtpl turns them into paragraph/page
# breaks: a template may write them on purpose; data never brings them, see clean_data).
_XML_INVALID = re.compile("[\x00-\x06\x08\x0b\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# In data: docxtpl's layout controls (\a new paragraph, \f page break, \v) would let a field forge
# paragraphs or pages of a contract; bidi overrides and isolates could show "¥1000" as "0001¥".
_DATA_LAYOUT = re.compile("[\x07\x0b\x0c]")
_DATA_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _finalize(value: Any) -> Any:
    """Drop characters that would corrupt document.xml (data pasted from Excel may carry them)."""
    if isinstance(value, str) and not isinstance(value, Markup):  # Markup: macro output, already clean
        return _XML_INVALID.sub("", value)
    return value


_DATA_DIRTY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Text from the data as a document may show it: layout controls become spaces, bidi overrides
    and isolates are dropped, and characters XML cannot hold are removed."""
    if not _DATA_DIRTY.search(text):  # nearly always: one scan, no copy
        return text
    text = _DATA_LAYOUT.sub(" ", text)
    text = _DATA_BIDI.sub("", text)
    return _XML_INVALID.sub("", text)


def clean_data(value: Any) -> Any:
    """A copy of a context with every string cleaned by ``clean_text``; other values unchanged.

    Markup (and docxtpl's Listing/RichText objects) are built by the program, not read from a
    team file, and pass through as they are.
    """
    kind = type(value)
    if kind is str:
        return clean_text(value)
    if kind is dict:
        return {k: clean_data(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [clean_data(v) for v in value]
    if isinstance(value, str):
        return value if isinstance(value, Markup) else clean_text(value)
    if isinstance(value, Mapping):
        return {k: clean_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_data(v) for v in value]
    return value


MAX_RANGE = 10_000  # a template loops over the data; range() only pads a table
MAX_RESULT_CHARS = 1_000_000  # "x" * n and [..] * n
MAX_RESULT_BITS = 4_096  # 10 ** 1000 is fine; 10 ** (10 ** 8) burns minutes of CPU


def _bounded_range(*args: int) -> range:
    """range() in templates, at most MAX_RANGE items."""
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise SecurityError(f"range() of {len(rng)} items (at most {MAX_RANGE})")
    return rng


def _int_bits(value: Any) -> int | None:
    return abs(value).bit_length() if isinstance(value, int) and not isinstance(value, bool) else None


def _check_power(base: Any, exponent: Any) -> None:
    bits, exp_bits = _int_bits(base), _int_bits(exponent)
    if bits is None or exp_bits is None or exponent <= 0 or abs(base) <= 1:
        if exp_bits is not None and exp_bits > 64:  # Decimal ** huge int, float ** huge int
            raise SecurityError(f"power with an exponent of {exp_bits} bits")
        return
    if exponent * bits > MAX_RESULT_BITS:
        raise SecurityError(f"power {base!r} ** {exponent!r} (more than {MAX_RESULT_BITS} bits)")


def _check_product(left: Any, right: Any) -> None:
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple | bytes) and _int_bits(n) is not None:
            if n > 0 and len(seq) * n > MAX_RESULT_CHARS:
                raise SecurityError(f"repetition of {len(seq)} items {n} times (more than {MAX_RESULT_CHARS})")
            return
    lb, rb = _int_bits(left), _int_bits(right)
    if lb is not None and rb is not None and lb + rb > MAX_RESULT_BITS:
        raise SecurityError(f"product of more than {MAX_RESULT_BITS} bits")


class SalesbookSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with bounded powers, repetitions and ranges.

    Intercepted operators are also never folded at compile time (Jinja checks
    ``intercepted_binops``), so compiling a template cannot compute ``10 ** (10 ** 8)``.
    """

    intercepted_binops = frozenset({"**", "*", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_product(left, right)
        return super().call_binop(context, operator, left, right)


def _unfoldable(func: Callable[..., Any]) -> Callable[..., Any]:
    """The filter as one Jinja cannot run at compile time (it folds filters on constants, e.g.
    ``"x"|center(1000000000)``, before any limit applies); called the same way at render time."""
    pass_arg = _PassArg.from_obj(func)

    @pass_context
    def call(context: Any, *args: Any, **kwargs: Any) -> Any:
        if pass_arg is _PassArg.context:
            return func(context, *args, **kwargs)
        if pass_arg is _PassArg.eval_context:
            return func(context.eval_ctx, *args, **kwargs)
        if pass_arg is _PassArg.environment:
            return func(context.environment, *args, **kwargs)
        return func(*args, **kwargs)

    call.__name__ = getattr(func, "__name__", "filter")
    call.__doc__ = func.__doc__
    return call


def make_env(*, autoescape: bool = True, extra_filters: Mapping[str, Callable[..., Any]] | None = None):
    """A sandboxed, strict Jinja environment with the salesbook filters.

    ``autoescape`` is on by default: HTML needs it, and so does docx XML (a customer called
    "A&B" would otherwise break document.xml).
    """
    env = SalesbookSandbox(
        undefined=FieldUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(FILTERS)
    if extra_filters:
        env.filters.update(extra_filters)
    env.filters = {name: _unfoldable(f) for name, f in env.filters.items()}
    env.tests = {name: _unfoldable(f) for name, f in env.tests.items()}
    env.globals["range"] = _bounded_range
    env.globals.pop("lipsum", None)  # placeholder text has no place in a contract; lipsum(10**9) would hang
    return env


def checked_env(env: jinja2.Environment | None) -> jinja2.Environment:
    """The given environment if it is safe for our templates, else a TypeError; None -> make_env().

    It must be our sandbox (``make_env``) with a strict undefined. Autoescape is forced on (as an
    overlay), since both HTML and docx XML break on unescaped "&" or "<" in the data.
    """
    if env is None:
        return make_env()
    if not isinstance(env, SalesbookSandbox):
        raise TypeError(
            "document templates need salesbook's sandboxed environment: use salesbook.documents.env.make_env()"
        )
    if not issubclass(env.undefined, StrictUndefined):
        raise TypeError("document templates need StrictUndefined: use salesbook.documents.env.make_env()")
    if env.autoescape is not True:
        env = env.overlay(autoescape=True)
    return env


_NO_LOADER_TAGS = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from … import",
                   nodes.Extends: "extends"}


def check_template_safety(ast: nodes.Template, template: str | Path) -> None:
    """Refuse, before rendering, a template that reaches for dunders, private attributes or modules,
    or for other templates (there is no template folder to load them from)."""
    for node in ast.find_all(tuple(_NO_LOADER_TAGS)):
        raise TemplateUnsupported(template=str(template), tag=_NO_LOADER_TAGS[type(node)], line=node.lineno)
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
    except RecursionError:
        raise TemplateInvalid(template=str(template), detail="expressions nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # e.g. a number literal of thousands of digits
        raise TemplateInvalid(template=str(template), detail=str(exc)) from None
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
    """Run a render call, turning every failure into one of our named errors that name the template."""
    try:
        return render()
    except DocumentError:
        raise
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
    except RecursionError:
        raise TemplateInvalid(template=str(template), detail="a macro or loop calls itself without end") from None
    except MemoryError:
        raise  # the render worker says how much memory it had
    except ArithmeticError as exc:
        raise TemplateInvalid(template=str(template),
                              detail=f"a calculation failed ({type(exc).__name__}: division by zero or overflow)") from None
    except TypeError as exc:
        if "no loader" in str(exc):  # {% include %} built at run time; check_template_safety sees the rest
            raise TemplateUnsupported(template=str(template), tag="include", line="?") from None
        raise TemplateInvalid(template=str(template), detail=f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a filter or the document's XML failed on this template
        raise TemplateInvalid(template=str(template), detail=f"{type(exc).__name__}: {exc}") from None
