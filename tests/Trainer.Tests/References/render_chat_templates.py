"""Renders chat templates with jinja2 exactly as transformers' apply_chat_template(tokenize=False) does
(transformers.utils.chat_template_utils: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the
loopcontrols extension, a tojson filter over json.dumps(ensure_ascii=False), raise_exception as a global, and
messages / tools=None / documents=None / add_generation_prompt / the special tokens as variables), written out here
because transformers is not installed. Reads a JSON list of cases on stdin, writes a JSON list of
{"output": text} or {"error": message} on stdout."""
import json
import sys

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationTracker(Extension):
    """transformers' AssistantTracker without the tracking: {% generation %} renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def render(case):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    template = env.from_string(case["template"])
    variables = dict(case.get("special_tokens", {}))
    return template.render(messages=case["messages"], tools=None, documents=None,
                           add_generation_prompt=case["add_generation_prompt"], **variables)


results = []
for case in json.load(sys.stdin):
    try:
        results.append({"output": render(case)})
    except jinja2.exceptions.TemplateError as e:
        results.append({"error": str(e)})
json.dump(results, sys.stdout, ensure_ascii=False)
