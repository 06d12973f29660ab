"""README — tests/kestra/: replaying exported flows the way Kestra runs them (test code, not product code).

This folder mirrors nothing in the package. ``replay`` is a test harness: it takes a flow YAML
written by ``nbops export`` (``_flows/**.yml``) and runs it task by task the way Kestra's executor,
worker and ``io.kestra.plugin.scripts.python.Commands`` task do, on a chosen Kestra version, so the
tests can say whether a flow that is green under ``nbops run`` is green in Kestra, with the same
values. It was written from Kestra's Java source; every rule below names where it comes from.

Sources (``K`` = kestra-io/kestra; the local snapshot is ``K@58c1ca2d`` = 0.21.0-SNAPSHOT of
2024-12-20; newer Kestra files were read from the code index at the commit named; ``K-1.x
FlowInputOutput.java`` is the index's version with ``resolveDefaultValue`` and the ``BOOL`` type, whose
commit the index does not name (index file 17535204565); ``PS`` =
kestra-io/plugin-scripts, ``PG`` = kestra-io/plugin-git, ``JDK`` = OpenJDK):

- Namespace files: ``CommandsWrapper.run`` copies the namespace files matching ``include``/``exclude``
  into the working directory before anything else (K@58c1ca2d script/.../runners/CommandsWrapper.java:135-145;
  K@09229b93 same file, ``NamespaceFilesUtils.loadNamespaceFiles``; K@044883a0
  core/.../utils/NamespaceFilesUtils.java). The match is ``PathMatcherPredicate.builder().includes().excludes()``
  (K@58c1ca2d core/.../storages/Namespace.java:69-75) against each file's path **with a leading slash**
  (K@58c1ca2d core/.../storages/InternalNamespace.java:112-114, ``NamespaceFile.path(true)``:
  NamespaceFile.java:121-133). A pattern without ``glob:``/``regex:`` that starts with a word character
  gets ``**/`` in front (K@58c1ca2d core/.../utils/PathMatcherPredicate.java:90-113), then Java's
  glob rules apply (JDK src/java.base/share/classes/sun/nio/fs/Globs.java ``toRegexPattern``): ``*``
  stays within a folder, ``**`` crosses folders, ``?`` is one character, ``[...]``/``[!...]`` classes,
  ``{a,b}`` groups. So ``data/*.csv`` also takes ``x/data/a.csv``, and ``*.csv`` takes nothing (every
  path starts with ``/``). The namespace's files themselves: in this project SyncNamespaceFiles
  copies ``notebooks/<child path>`` (every file of that folder tree, ``.git``/``.gitignore``/
  ``.gitkeep`` excepted: PG@31ef79c1 AbstractSyncTask.java:92-105) into namespace ``<root>.<child>``
  (``kernel_ext/core/gitops_flow.py``); here: the files Git would commit in that folder.
- ``inputFiles``: rendered once with Pebble (``PluginUtilsService.transformInputFiles``, K@58c1ca2d
  core/.../runners/PluginUtilsService.java:98-118), then each written to the working directory; a
  value starting with ``kestra://`` is downloaded from internal storage instead (K@58c1ca2d
  core/.../runners/FilesService.java:24-61; from 1.0 any ``URIFetcher`` scheme, K@173d2b10 FilesService.java).
  Output files live in a local folder standing in for internal storage.
- Pebble: ``VariableRenderer`` with ``strictVariables(true)``, no auto-escaping, no newline trimming;
  single-line ``{% raw %}`` blocks are set aside before rendering and stripped to their content after
  (K@58c1ca2d core/.../runners/VariableRenderer.java:26-134; K@00172f18 same rules). Values print
  through ``JsonWriter`` (maps and lists as JSON, numbers as Java prints them, K@58c1ca2d
  core/.../runners/pebble/JsonWriter.java:59-71); ``toJson`` is Jackson (``ToJsonFilter``:
  null → ``null``, else ``JacksonMapper.ofJson().writeValueAsString``, K@58c1ca2d
  core/.../runners/pebble/filters/ToJsonFilter.java:23-33). This harness renders only what nbops emits:
  ``{{ path | toJson }}``, ``{{ path }}``, ``[...]`` subscripts, ``??``, string literals, ``{% raw %}``,
  comments and ``-`` whitespace control; anything else raises :class:`NotEmulated`.
- Input values: typed as Kestra types them (``FlowInputOutput.parseType``: INT is a Java ``Integer``,
  FLOAT a Java **Float** (32-bit!), DATE a ``LocalDate``..., K@58c1ca2d core/.../runners/FlowInputOutput.java:401-467;
  K-1.x same file), defaults taken as written before 1.0 (FlowInputOutput.java:238) and
  rendered as Pebble then converted from 1.0 (``resolveDefaultValue``/``Property.as``, K-1.x
  FlowInputOutput.java; K@009573e8 core/.../models/property/Property.java ``as``). The execution that
  carries them is stored as JSON (Jackson) and read back, so what a task renders is the JSON
  round trip of those typed values. Jackson writes a Java double/float with ``Double.toString``/
  ``Float.toString``: E notation at or above 1e7 and below 1e-3 (``1.2345678E7``, ``1.0E-4``)
  (K@58c1ca2d core/.../serializers/JacksonMapper.java:123-138 enables no number feature;
  JDK ``Double.toString`` javadoc), NaN/Infinity as strings; durations as seconds
  (K@009573e8 Property.java: "By default, durations are stored as numbers").
- Running: ``beforeCommands`` and ``commands`` are rendered, ``set -e`` is put first when
  ``failFast`` (default true), and everything is joined with newlines into one argument of the
  interpreter ``/bin/sh -c`` (K@58c1ca2d script/.../exec/AbstractExecScript.java:85-94,169-199;
  K@58c1ca2d core/.../tasks/runners/ScriptService.java:148-160; PS@v0.21.2 and PS@v1.5.0
  plugin-script-python/.../python/Commands.java ``run``: ``withBeforeCommandsWithOptions(true)``;
  K@09229b93 CommandsWrapper.java ``run``/``getBeforeCommandsWithOptions``). The task's environment:
  the image's, then ``env``, then ``PYTHONUNBUFFERED=true``, ``PIP_ROOT_USER_ACTION=ignore``,
  ``PIP_DISABLE_PIP_VERSION_CHECK=1`` (Commands.java ``run``), then ``WORKING_DIR``
  (K@58c1ca2d core/.../tasks/runners/TaskRunner.java:85-109); the working directory is the task's own.
- **The container image is faked**: Docker cannot run here (no engine), so the task runs in a
  process whose environment is the current Python environment *without nbops* (a virtual
  environment that sees this one's packages except nbops/kernel_ext, as
  ``tests/services/test_examples.py::_nbops_free_environment`` builds, with the same console scripts
  and the ``python3`` kernelspec), not in ``containerImage``. So a notebook cannot import
  ``kernel_ext`` unless the flow ships it, as in Kestra's container. Its ``pip`` installs nothing: it
  checks that the requirements are satisfied by that environment and fails as pip would when one is
  not (``fake_pip.py``). The Python version is this environment's, not the image's.
- State: a non-zero exit code is FAILED (Docker runner ``TaskException``, K@58c1ca2d
  script/.../runner/docker/Docker.java:482-490); before 0.23 an exit code 0 with any stderr line is
  WARNING unless the task sets ``warningOnStdErr: false`` (default true: AbstractExecScript.java:69-76;
  ScriptOutput.java:47-49); from 0.23 the exit code alone decides (kestra-io/plugin-scripts#233,
  PS@9220b015 "remove warningOnError behavior", first in v0.23.0; kestra-io/docs#2567; K@09229b93
  CommandsWrapper keeps a deprecated ``warningOnStdErr`` field but builds ``ScriptOutput`` without it).
  From 0.23 the harness accepts and ignores the property (whether Kestra ≥ 0.23 still accepts it in a
  flow was not confirmed from source).
  Lines are what the Docker runner makes of the streams (Docker.java:149,433-470). A failed task ends
  the execution once its ``Parallel`` group is done (all its children were started); children of a
  Parallel are run one after the other here, not at the same time. The execution's state is the
  worst of its task runs (K@58c1ca2d core/.../models/executions/Execution.java:564-594); ``retry``
  runs a failed task again up to ``maxAttempt`` attempts in all (TaskRun.java:266-279), without
  waiting the interval here; ``timeout`` kills the task (FAILED).
- Outputs: every stdout *and stderr* line matching ``^::(\\{.*})::$`` is read with Jackson's
  non-strict mapper into ``{outputs, metrics, logs}``; a line Jackson refuses (``NaN``,
  ``Infinity``, ...) is lost whole; the outputs of all lines are merged (K@58c1ca2d
  core/.../tasks/runners/PluginUtilsService.java:34-37,170-212, DefaultLogConsumer.java:16-24;
  K@044883a0 TaskLogLineMatcher.java for 1.x). They become ``outputs.<task>.vars``; ``outputFiles``
  are matched under the working directory (LocalWorkingDir.java:203-251, FilesService.java:63-78) and
  kept for later tasks. The flow's ``outputs`` are rendered at the end even after a failure; a
  rendering or typing error turns the execution FAILED (K@58c1ca2d core/.../runners/ExecutorService.java:369-397,
  FlowInputOutput.typedOutputs).
- Flow trigger: :func:`flow_trigger_fires` says whether an ``after:`` flow's
  ``io.kestra.plugin.core.trigger.Flow`` trigger fires for upstream executions: its ``states``
  (default: every terminal state) and each ``preconditions.flows[]`` namespace/flowId/states
  (K@58c1ca2d core/.../plugin/core/trigger/Flow.java:221-222,278-407; State.java:215-245).

What is not emulated raises :class:`NotEmulated` (unknown task or input properties, other Pebble
syntax, other pip commands), so a gap never passes for Kestra's behaviour.

Modules (the harness was one ``replay.py`` before): ``errors`` and ``versions``; ``jackson`` (Java values,
Jackson's JSON; the numbers are ``tests/kestra_jackson.py``'s) and ``java_types`` (``parseType``);
``pebble_expressions`` and ``pebble`` (the renderer); ``globs`` and ``namespace_files``
(``PathMatcherPredicate``); ``flow_yaml``; ``inputs``; ``image`` (the fake container image, its pip is
``../fake_pip.py``); ``context`` (the execution: variables, namespace files, internal storage);
``task_files`` (namespace, input and output files); ``script`` (the ``sh -c`` script, its environment and
process); ``outputs`` (log lines, the ``::{...}::`` lines); ``commands`` (the Commands task, retry, its
state); ``state`` (task runs, execution results); ``execution`` (:func:`replay`: tasks, Parallel, flow
outputs); ``trigger`` (the Flow trigger). This module re-exports the names the tests use.
"""
from __future__ import annotations

from .commands import COMMANDS_TYPES
from .errors import NOT_EMULATED_MARK, InputError, NotEmulated, RenderError
from .execution import PARALLEL_TYPES, SEQUENTIAL_TYPES, replay
from .flow_yaml import load_flow
from .globs import GlobSyntaxError, java_glob_regex
from .image import NBOPS_DISTS, FakeImage, default_image
from .inputs import resolve_inputs
from .jackson import (
    JDuration,
    JFloat,
    JTemporal,
    jackson_dumps,
    jackson_loads,
    java_double_to_string,
    java_float_to_string,
    java_parse_float,
    java_parse_int,
    round_trip,
)
from .namespace_files import (
    include_exclude,
    kestra_pattern,
    matching_namespace_files,
    namespace_files,
    namespace_folder,
    path_matcher,
)
from .outputs import log_lines, parse_output_line
from .pebble import RAW_PATTERN, pebble_print, render
from .state import TERMINAL_STATES, ExecutionResult, TaskRun, worst_state
from .trigger import FLOW_TRIGGER_TYPES, flow_trigger_fires
from .versions import (
    NAMESPACES_PROPERTY_SINCE,
    PEBBLE_DEFAULTS_SINCE,
    STDERR_WARNING_UNTIL,
    URI_FETCHER_SINCE,
    Version,
)

__all__ = [
    "COMMANDS_TYPES", "FLOW_TRIGGER_TYPES", "NAMESPACES_PROPERTY_SINCE", "NBOPS_DISTS", "NOT_EMULATED_MARK",
    "PARALLEL_TYPES", "PEBBLE_DEFAULTS_SINCE", "RAW_PATTERN", "SEQUENTIAL_TYPES", "STDERR_WARNING_UNTIL",
    "TERMINAL_STATES", "URI_FETCHER_SINCE", "ExecutionResult", "FakeImage", "GlobSyntaxError", "InputError",
    "JDuration", "JFloat", "JTemporal", "NotEmulated", "RenderError", "TaskRun", "Version", "default_image",
    "flow_trigger_fires", "include_exclude", "jackson_dumps", "jackson_loads", "java_double_to_string",
    "java_float_to_string", "java_glob_regex", "java_parse_float", "java_parse_int", "kestra_pattern", "load_flow",
    "log_lines", "matching_namespace_files", "namespace_files", "namespace_folder", "parse_output_line",
    "path_matcher", "pebble_print", "render", "replay", "resolve_inputs", "round_trip", "worst_state",
]
