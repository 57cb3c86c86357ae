"""The services' definition problems in the editor's two languages, by their code
(contractflow.workflow.problem_codes) with `{parameter}` places. A problem whose code has
no text here is shown by the service's English reason."""

from __future__ import annotations

PROBLEM_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "xml_malformed": "not well-formed XML (line {line}): {detail}",
        "doctype_refused": "DOCTYPE / ENTITY declarations are refused",
        "no_process": "contains no bpmn:process",
        "process_not_executable": (
            "process {process} is not executable (isExecutable is not true): "
            "it is documentation only"
        ),
        "element_unsupported": "{element} is not supported by the engine",
        "engine_refused": "the workflow engine cannot read this: {detail}",
        "expression_refused": "{what}: {detail}",
        "start_timer_not_iso": (
            "timer start event value {value} is not a plain ISO 8601 date, duration or "
            "cycle; a start timer has no process variables to evaluate an expression against"
        ),
        "form_unknown": "form '{form}' is not registered",
        "operation_unknown": "service operation '{operation}' is not registered",
        "throw_unmapped": "{kind} '{name}' is thrown but mapped to no event type",
        "dmn_unparseable": "the decision table cannot be parsed: {detail}",
    },
    "zh": {
        "xml_malformed": "XML 格式不正确（第 {line} 行）：{detail}",
        "doctype_refused": "不接受 DOCTYPE / ENTITY 声明",
        "no_process": "文档中没有 bpmn:process",
        "process_not_executable": "流程 {process} 不可执行（isExecutable 不为 true）：仅作文档用途",
        "element_unsupported": "流程引擎不支持 {element}",
        "engine_refused": "流程引擎无法读取此处：{detail}",
        "expression_refused": "表达式不被接受（{what}）：{detail}",
        "start_timer_not_iso": (
            "定时开始事件的值 {value} 不是单纯的 ISO 8601 日期、时长或周期；"
            "定时开始时没有流程变量可用于计算表达式"
        ),
        "form_unknown": "表单 '{form}' 未在本服务注册",
        "operation_unknown": "服务操作 '{operation}' 未在本服务注册",
        "throw_unmapped": "抛出的{kind} '{name}' 没有对应的事件类型",
        "dmn_unparseable": "无法解析决策表：{detail}",
    },
}
