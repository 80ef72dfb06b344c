"""Chat templates that make llama.cpp parse tool calls, and the choice of one for a model.

Small models asked for tool calls through their own templates often write the call as text
(a fenced JSON block), and llama.cpp parses no tool call from it. These templates ask for
exactly that form and render earlier calls the same way, so llama.cpp's template analysis
learns "```json\\n{"name": ..., "arguments": ...}\\n```" as the tool-call syntax: the server
then streams real `tool_calls`, and the client never parses calls out of text.

One skeleton serves every family; only the turn markup differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lsp_agent.local.gguf import GGUFInfo


@dataclass(frozen=True)
class Markup:
    user: tuple[str, str]
    assistant: tuple[str, str]
    system: tuple[str, str] | None  # None: the system text joins the first user turn
    tool: tuple[str, str] | None = None  # None: tool results arrive as a user turn
    bos: bool = False


FAMILIES: dict[str, Markup] = {
    "chatml": Markup(  # Qwen2.5, Qwen3, SmolLM
        user=("<|im_start|>user\n", "<|im_end|>\n"),
        assistant=("<|im_start|>assistant\n", "<|im_end|>\n"),
        system=("<|im_start|>system\n", "<|im_end|>\n"),
    ),
    "llama3": Markup(
        user=("<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>"),
        assistant=("<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>"),
        system=("<|start_header_id|>system<|end_header_id|>\n\n", "<|eot_id|>"),
        tool=("<|start_header_id|>ipython<|end_header_id|>\n\n", "<|eot_id|>"),
        bos=True,
    ),
    "gemma": Markup(  # Gemma 2 and 3 have no system role
        user=("<start_of_turn>user\n", "<end_of_turn>\n"),
        assistant=("<start_of_turn>model\n", "<end_of_turn>\n"),
        system=None,
        bos=True,
    ),
    "mistral": Markup(
        user=("[INST] ", "[/INST]"),
        assistant=("", "{{ eos_token }}"),
        system=None,
        bos=True,
    ),
}

TOOL_PROMPT = """

# Tools

You can call these tools (JSON Schema):
{% for t in tools %}{{ (t.function if t.function is defined else t) | tojson }}
{% endfor %}
To call a tool, reply with a fenced JSON block and nothing else:
```json
{"name": "<tool name>", "arguments": {<arguments>}}
```
You will get its result, then call another tool or answer in plain text."""

SKELETON = """{#- lsp-agent @NAME@ template: tool calls are fenced JSON blocks -#}
{%- macro call_json(tc) -%}
{%- set f = tc.function if tc.function is defined else tc -%}
{"name": "{{ f.name }}", "arguments": {{ f.arguments if f.arguments is string \
else f.arguments | tojson }}}
{%- endmacro -%}
{%- if messages and messages[0].role == 'system' -%}
{%- set system = messages[0].content -%}
{%- set rest = messages[1:] -%}
{%- else -%}
{%- set system = '' -%}
{%- set rest = messages -%}
{%- endif -%}
{%- if tools -%}
{%- set system = (system if system else 'You are a helpful assistant.') + TOOLS_TEXT -%}
{%- endif -%}
{%- set ns = namespace(pending=system) -%}
@BOS@
{%- if @SYSTEM_ROLE@ and system -%}
@SYS_OPEN@{{ system }}@SYS_CLOSE@
{%- set ns.pending = '' -%}
{%- elif ns.pending and (not rest or rest[0].role != 'user') -%}
@USER_OPEN@{{ ns.pending }}@USER_CLOSE@
{%- set ns.pending = '' -%}
{%- endif -%}
{%- for m in rest -%}
{%- if m.role == 'tool' -%}
{%- if loop.first or loop.previtem.role != 'tool' -%}@TOOL_OPEN@{%- endif -%}
<tool_response>
{{ m.content }}
</tool_response>
{% if loop.last or loop.nextitem.role != 'tool' -%}@TOOL_CLOSE@{%- endif -%}
{%- elif m.role == 'assistant' -%}
@ASSISTANT_OPEN@
{%- if m.content -%}{{ m.content }}{%- endif -%}
{%- if m.tool_calls -%}
{%- for tc in m.tool_calls -%}
{%- if m.content or not loop.first %}
{% endif -%}
```json
{{ call_json(tc) }}
```
{%- endfor -%}
{%- endif -%}
@ASSISTANT_CLOSE@
{%- else -%}
@USER_OPEN@
{%- if ns.pending -%}{{ ns.pending }}

{% set ns.pending = '' -%}{%- endif -%}
{{ m.content }}@USER_CLOSE@
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}@ASSISTANT_OPEN@{%- endif -%}
"""


def _literal(text: str) -> str:
    """Markup as Jinja output: a quoted string, unless it already is a Jinja expression."""
    if "{{" in text:
        return text
    return "{{- " + repr(text) + " -}}" if text else ""


def render_template(family: str) -> str:
    """The Jinja source of a family's template."""
    m = FAMILIES[family]
    system = m.system or ("", "")
    tool = m.tool or m.user
    out = SKELETON.replace("TOOLS_TEXT", "tools_text()")
    tools_block = "{%- macro tools_text() %}" + TOOL_PROMPT + "{%- endmacro -%}\n"
    parts = {
        "@NAME@": family,
        "@BOS@": "{{- bos_token -}}" if m.bos else "",
        "@SYSTEM_ROLE@": "true" if m.system else "false",
        "@SYS_OPEN@": _literal(system[0]),
        "@SYS_CLOSE@": _literal(system[1]),
        "@USER_OPEN@": _literal(m.user[0]),
        "@USER_CLOSE@": _literal(m.user[1]),
        "@ASSISTANT_OPEN@": _literal(m.assistant[0]),
        "@ASSISTANT_CLOSE@": _literal(m.assistant[1]),
        "@TOOL_OPEN@": _literal(tool[0]),
        "@TOOL_CLOSE@": _literal(tool[1]),
    }
    for key, value in parts.items():
        out = out.replace(key, value)
    head, _, body = out.partition("\n")
    return head + "\n" + tools_block + body


# --- choosing one -------------------------------------------------------------------

EMBEDDED = "embedded"
CHOICES = [*FAMILIES, EMBEDDED]


@dataclass(frozen=True)
class TemplateChoice:
    name: str  # a family, "embedded", or a file path
    reason: str
    source: str | None  # Jinja source to pass to llama.cpp; None keeps the model's own

    @property
    def parses_tool_calls(self) -> bool:
        return self.source is not None


class TemplateError(ValueError):
    """A chat-template setting that names nothing usable; the message says what to set."""


def choose_template(info: GGUFInfo, setting: str = "auto") -> TemplateChoice:
    """The template for a model: the setting if it names one, else by the GGUF's metadata."""
    if setting != "auto":
        return _from_setting(setting)
    family, why = detect_family(info)
    if family is None:
        return TemplateChoice(
            EMBEDDED,
            f"{why}: using the model's own template (tool calls may come back as plain "
            f"text; set local.chatTemplate to one of {', '.join(FAMILIES)})",
            None,
        )
    return TemplateChoice(family, why, render_template(family))


def _from_setting(setting: str) -> TemplateChoice:
    if setting in FAMILIES:
        return TemplateChoice(setting, "set by local.chatTemplate", render_template(setting))
    if setting == EMBEDDED:
        return TemplateChoice(EMBEDDED, "set by local.chatTemplate", None)
    path = Path(setting).expanduser()
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TemplateError(
            f"local.chatTemplate {setting!r} is not one of auto, {', '.join(CHOICES)}, "
            f"nor a readable Jinja file ({e.__class__.__name__})"
        ) from None
    return TemplateChoice(str(path), "the file set by local.chatTemplate", source)


def detect_family(info: GGUFInfo) -> tuple[str | None, str]:
    """A family and the reason, from `general.architecture`, the name and the embedded
    template; (None, reason) when nothing matches."""
    arch = info.architecture.lower()
    name = " ".join(
        str(info.get(k) or "") for k in ("general.name", "general.basename", "general.finetune")
    ).lower()
    embedded = info.chat_template
    if arch.startswith("qwen"):
        return "chatml", f"architecture {arch}"
    if arch.startswith("gemma"):
        return "gemma", f"architecture {arch}"
    if "smollm" in name:
        return "chatml", f"model name {info.name!r}"
    if arch.startswith("mistral"):
        return "mistral", f"architecture {arch}"
    if "mistral" in name:  # Mistral 7B and Nemo say "llama"
        return "mistral", f"model name {info.name!r}"
    if "<|start_header_id|>" in embedded:
        return "llama3", "its embedded template uses Llama 3 headers"
    if "<|im_start|>" in embedded:
        return "chatml", "its embedded template uses ChatML"
    if "<start_of_turn>" in embedded:
        return "gemma", "its embedded template uses Gemma turns"
    if "[INST]" in embedded:
        return "mistral", "its embedded template uses [INST]"
    if arch == "llama" and "llama 3" in name.replace("-", " ").replace("llama3", "llama 3"):
        return "llama3", f"model name {info.name!r}"
    return None, f"no known family for architecture {arch or '?'} and name {info.name!r}"
