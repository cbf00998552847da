#!/usr/bin/env python3
"""Renders a project's models with Kiln (`kiln compile`) and with Jinja2 itself, and checks that
every model's text is the same.

Jinja2 is given the part of dbt's context the tests use, built the way dbt builds it: ref, source,
var (from dbt_project.yml, read with PyYAML as dbt reads it), env_var, config, this, target,
is_incremental, adapter.dispatch (the project's postgres__/default__ macros, then dbt's),
exceptions.raise_compiler_error, return() for macros of macro files (dbt's MacroGenerator), and
the dbt namespace of cross-database macros, taken from Kiln's own copy (DbtMacros.cpp) so that
the engine, not the macro text, is what is compared.

Usage: jinja_oracle.py --kiln KILN PROJECT_DIR
Prints each model's name and OK, or a diff; exits 1 on any difference.
"""
import argparse
import difflib
import os
import pathlib
import re
import subprocess
import sys

import jinja2
import yaml

SOURCE_ROOT = pathlib.Path(__file__).resolve().parents[2]


class MacroReturn(Exception):
    def __init__(self, value):
        self.value = value


def do_return(value=None):
    raise MacroReturn(value)


class Relation:
    def __init__(self, schema, identifier, sql):
        self.schema, self.identifier, self.name, self.sql = schema, identifier, identifier, sql

    def __str__(self):
        return self.sql


class Namespace:
    def __init__(self, macros):
        self._macros = macros

    def __getattr__(self, name):
        if name in self._macros:
            return self._macros[name]
        raise AttributeError(name)


class Config:
    def __init__(self):
        self.values = {}

    def __call__(self, *args, **kwargs):
        self.values.update(kwargs)
        return ""

    def get(self, name, default=None):
        return self.values.get(name, default)


def wrap(macro):
    """Calls a macro the way dbt's MacroGenerator does: return() ends it with a value."""

    def call(*args, **kwargs):
        try:
            return macro(*args, **kwargs)
        except MacroReturn as signal:
            return signal.value

    return call


def dbt_macro_text():
    text = (SOURCE_ROOT / "compiler/lib/Project/DbtMacros.cpp").read_text()
    return re.search(r'R"jinja\((.*?)\)jinja"', text, re.S).group(1)


def render_with_jinja(project, model_path, model_name):
    settings = yaml.safe_load((project / "dbt_project.yml").read_text()) or {}
    name = settings["name"]
    variables = dict(settings.get("vars") or {})
    variables.update(variables.pop(name, {}) if isinstance(variables.get(name), dict) else {})

    env = jinja2.Environment(extensions=["jinja2.ext.do"], undefined=jinja2.Undefined)
    context = dict(env.globals)  # range, dict, namespace, ...
    project_macros, dbt_macros = {}, {}

    def load(text, into):
        # dbt makes each macro of a file a template of its own, so a macro calls the others
        # (those of its own file too) through the context, where return() is caught. shared=True:
        # the module reads `context` itself, so it sees macros added later.
        for block in re.finditer(r"\{%-?\s*macro\s.*?\{%-?\s*endmacro\s*-?%\}", text, re.S):
            module = env.from_string(block.group(0)).make_module(vars=context, shared=True)
            for attribute in dir(module):
                value = getattr(module, attribute)
                if isinstance(value, jinja2.runtime.Macro):
                    into[attribute] = wrap(value)

    load(dbt_macro_text(), dbt_macros)
    for macro_dir in settings.get("macro-paths", ["macros"]):
        for path in sorted((project / macro_dir).rglob("*.sql")):
            load(path.read_text(), project_macros)

    def dispatch(macro_name, macro_namespace=None):
        spaces = [project_macros] + ([dbt_macros] if macro_namespace == "dbt" else [])
        for space in spaces:
            for prefix in ("postgres__", "default__"):
                if prefix + macro_name in space:
                    return space[prefix + macro_name]
        raise jinja2.TemplateRuntimeError("no implementation of " + macro_name)

    def var(var_name, default=None):
        if var_name in variables:
            return variables[var_name]
        if default is None:
            raise jinja2.TemplateRuntimeError("var " + var_name + " is not defined")
        return default

    def env_var(var_name, default=None):
        value = os.environ.get(var_name, default)
        if value is None:
            raise jinja2.TemplateRuntimeError("env var " + var_name + " is not set")
        return value

    def raise_compiler_error(msg):
        raise jinja2.TemplateRuntimeError(msg)

    class Target:
        type, name, schema, database, threads = "postgres", "dev", "public", "kiln", 1

    Target.profile_name = name

    class Adapter:
        pass

    adapter = Adapter()
    adapter.dispatch = dispatch
    adapter.quote = lambda identifier: '"' + identifier + '"'

    class Exceptions:
        pass

    exceptions = Exceptions()
    exceptions.raise_compiler_error = raise_compiler_error

    context.update(dbt_macros)
    context.update(project_macros)
    context.update(
        {
            "ref": lambda *parts: Relation("public", parts[-1], parts[-1]),
            "source": lambda s, t: Relation(s, t, s + "." + t),
            "var": var,
            "env_var": env_var,
            "config": Config(),
            "this": Relation("public", model_name, model_name),
            "target": Target(),
            "is_incremental": lambda: False,
            "should_full_refresh": lambda: False,
            "execute": True,
            "log": lambda *a, **k: "",
            "adapter": adapter,
            "exceptions": exceptions,
            "return": do_return,
            "dbt": Namespace(dbt_macros),
            name: Namespace(project_macros),
        }
    )
    template = env.from_string(model_path.read_text(), globals=context)
    return template.render()


def kiln_models(kiln, project):
    result = subprocess.run([kiln, "compile", str(project)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("kiln compile failed:\n" + result.stderr)
    models, current = {}, None
    for line in result.stdout.split("\n"):
        header = re.match(r"-- model: (\S+) \(\w+\)$", line)
        if header:
            current = header.group(1)
            models[current] = []
        elif current is not None:
            models[current].append(line)
    return {name: "\n".join(lines) for name, lines in models.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kiln", required=True)
    parser.add_argument("project", type=pathlib.Path)
    args = parser.parse_args()

    rendered = kiln_models(args.kiln, args.project)
    failed = False
    model_paths = sorted((args.project / "models").rglob("*.sql"))
    for path in model_paths:
        name = path.stem
        expected = render_with_jinja(args.project, path, name).rstrip("\n")
        actual = rendered.get(name, "").rstrip("\n")
        if expected == actual:
            print(name + ": OK")
            continue
        failed = True
        print(name + ": differs from Jinja2")
        for line in difflib.unified_diff(expected.split("\n"), actual.split("\n"), "jinja2",
                                         "kiln", lineterm=""):
            print("  " + line)
    if not model_paths:
        sys.exit("no models under " + str(args.project / "models"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
