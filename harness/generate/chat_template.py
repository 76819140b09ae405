"""Chat templates rendered the way transformers renders them: sandboxed Jinja, trim/lstrip blocks.

The `gguf` backend reads a chat model's template from its GGUF file and renders it here, so both of
its engines (llama.cpp and transformers) get the same string.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

from harness.errors import HarnessError


@functools.lru_cache(maxsize=8)
def _compiled_template(template: str):
    """The chat template compiled once per template text (compiling costs ~20 ms a call)."""
    from jinja2.exceptions import TemplateError  # heavy: only chat models need Jinja
    from jinja2.ext import loopcontrols  # heavy: as above
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # heavy: as above

    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    try:
        return env.from_string(template)
    except TemplateError as e:
        raise HarnessError(f"chat template: cannot compile it: {e}") from None


def render_chat(template: str, messages: Sequence[tuple[str, str]], *, bos_token: str = "", eos_token: str = "") -> str:
    """Render a chat template the way transformers does (sandboxed Jinja, trim/lstrip blocks)."""
    from jinja2.exceptions import TemplateError  # heavy: only chat models need Jinja

    compiled = _compiled_template(template)
    try:
        return compiled.render(
            messages=[{"role": r, "content": c} for r, c in messages],
            add_generation_prompt=True,
            bos_token=bos_token,
            eos_token=eos_token,
        )
    except TemplateError as e:
        raise HarnessError(f"chat template: cannot render the prompt: {e}") from None

