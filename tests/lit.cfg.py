# lit configuration for Kiln's FileCheck tests. Substitutes the tools built in the build tree and
# LLVM 19's FileCheck/not/count/split-file.
import os
import lit.formats

config.name = "Kiln"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".test", ".sql", ".kir"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_build_dir, "tests")

tools_dir = os.path.join(config.kiln_build_dir, "tools")
# (Before %kiln, which is a prefix of it.)
config.substitutions.append(("%kafka_mock", os.path.join(tools_dir, "kiln-kafka-mock", "kiln-kafka-mock")))
for tool in ["kiln", "kiln-opt", "kiln-slt", "kiln-parse"]:
    config.substitutions.append(
        ("%" + tool.replace("-", "_"), os.path.join(tools_dir, tool, tool)))
config.substitutions.append(("%sum_sinks", "python3 " + os.path.join(config.kiln_source_dir, "tests", "e2e", "sum-sinks.py")))
config.substitutions.append(("%examples", os.path.join(config.kiln_source_dir, "examples")))
config.substitutions.append(("%shop_gen", os.path.join(config.kiln_build_dir, "bench", "shop_gen")))
for tool in ["nexmark_gen", "nexmark_baseline"]:
    config.substitutions.append(("%" + tool, os.path.join(config.kiln_build_dir, "bench", tool)))
config.substitutions.append(("%bench", os.path.join(config.kiln_source_dir, "bench")))
config.substitutions.append(("%sanitized_runtime", os.path.join(
    config.kiln_build_dir, "runtime", "libkiln_runtime_sanitized.a")))
config.substitutions.append(("%corpora", os.path.join(config.kiln_source_dir, "..", "shared", "corpora")))

path = [os.path.join(tools_dir, t) for t in ["kiln", "kiln-opt", "kiln-slt", "kiln-parse"]]
path += [config.llvm_tools_dir, config.environment.get("PATH", os.environ.get("PATH", ""))]
config.environment["PATH"] = os.pathsep.join(path)
for name in ["HOME", "TMPDIR", "KILN_PG_PORT"]:
    if name in os.environ:
        config.environment[name] = os.environ[name]
