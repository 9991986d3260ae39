"""A MaxKB application's chat API, as MaxKB's own source defines it (1.10 and 2.x).

Follows (1Panel-dev/MaxKB, branch ``v1`` = 1.10.x LTS and branch ``v2`` = 2.x):
- ``apps/common/auth/authenticate.py`` and ``apps/common/auth/handle/impl/application_key.py``
  — **1.x** reads ``Authorization`` as the raw key (a handle supports it when it
  ``startswith("application-")``, so ``Bearer application-…`` is "非法用户", 401 code 1002);
  **2.x** requires ``Bearer `` and strips it. An unknown key: 401 with code 500
  ("secret key无效"); no header: 401 code 1003.
- ``apps/common/exception/app_exception.py``, ``apps/common/handle/handle_exception.py``,
  ``apps/common/response/result.py`` — bodies ``{code, message, data}``; ``ChatException``
  (e.g. "对话不存在", a chat the server no longer holds) is HTTP 500 code 500.
- v1 ``apps/application/urls.py`` / ``views/chat_views.py`` — ``GET /api/application/{id}/chat/
  open``, ``POST /api/application/chat_message/{chat_id}``, the record at ``GET /api/application/
  {id}/chat/{chat_id}/chat_record/{record_id}``, the vote at ``PUT …/chat_record/{record_id}/
  vote``. v2 ``apps/chat/urls.py`` under ``{CHAT_PATH}/api/`` (``apps/maxkb/urls.py``,
  ``CHAT_PATH`` default ``/chat``, ``apps/maxkb/conf.py``): ``GET open``, ``POST chat_message/
  {chat_id}``, ``GET historical_conversation/{chat_id}/record/{record_id}``, ``PUT vote/chat/
  {chat_id}/chat_record/{record_id}`` ``{vote_status: "0" (up) | "1" (down) | "-1"}``.
- ``apps/common/handle/impl/response/system_to_response.py`` — stream chunks ``data: {chat_id,
  chat_record_id, operate, content, node_id, up_node_id_list, is_end, usage, …}``; the blocking
  body ``{chat_id, id, operate, content, is_end, …, completion_tokens, prompt_tokens}``.
- ``apps/application/chat_pipeline/step/chat_step/impl/base_chat_step.py`` — a failing model
  streams ``"Exception:" + error`` as content and (simple apps) never sends ``is_end``;
  blocking, it is HTTP 500 with that content; no paragraph found and the app's "no
  references" setting ``designated_answer``: its text (``{question}`` filled in) is the answer.
  ``apps/application/flow/workflow_manage.py`` — a workflow node's failure is an
  ``Exception:`` chunk too, then the end.
- The record: v1 ``serializers/chat_serializers.py`` ``reset_chat_record`` — ``dataset_list``
  and ``paragraph_list`` from the simple app's search step only (a workflow app's are in
  ``execution_details``, its ``search-dataset-node``); v2 ``apps/application/serializers/
  application_chat_record.py`` — ``knowledge_list``/``paragraph_list`` **only with the app's
  ``show_source`` on**, ``execution_details`` beyond the start node only with ``show_exec``;
  paragraphs per ``chat_pipeline/I_base_chat_pipeline.py`` (v2 keeps no document ``meta``).

Test knobs in ``Behaviour.extra``: ``fail`` (``"model"``), ``empty`` (nothing found:
the designated answer ``DESIGNATED``), ``forget`` (the server no longer holds its chats).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.servers import Behaviour, app_with, paced, received, sse

APP_TYPES = ("simple", "workflow")
DESIGNATED = "抱歉，知识库中没有找到“{question}”的相关内容，请拨打12345热线咨询。"
MODEL_FAILURE = "Error code: 401 - {'error': {'message': 'Incorrect API key provided'}}"

PARAGRAPH = {
    "id": "0e5c1f0a-8d3e-11ef-9d6a-0242ac120003",
    "document_id": "0e5c1f0a-8d3e-11ef-9d6a-0242ac120002",
    "dataset_id": "0e5c1f0a-8d3e-11ef-9d6a-0242ac120001",
    "content": "居住证申领：居民身份证、近期照片、居住证明。",
    "title": "申领材料",
    "status": "nn2",
    "is_active": True,
    "comprehensive_score": 0.8812,
    "similarity": 0.8812,
    "dataset_name": "政务知识库",
    "document_name": "居住证办理指南",
    "meta": {"source_url": "https://zwfw.example.org/jzz/guide"},
}


def result(data: Any, code: int = 200, message: str = "成功", status: int = 200) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "data": data}, status)


def paragraph(version: int) -> dict[str, Any]:
    if version == 1:
        return dict(PARAGRAPH)
    renamed = {"dataset_id": "knowledge_id", "dataset_name": "knowledge_name"}
    v2 = {renamed.get(key, key): value for key, value in PARAGRAPH.items()}
    return {**v2, "knowledge_type": 0, "meta": {}}  # 2.x keeps no document meta


def create_app(
    behaviour: Behaviour,
    application_id: str = "app-1",
    version: int = 1,
    app_type: str = "simple",
    show_source: bool = False,
    show_exec: bool = False,
    chat_path: str = "/chat",
) -> FastAPI:
    if version not in (1, 2) or app_type not in APP_TYPES:
        raise ValueError(f"not a MaxKB {version} application type: {app_type}")
    app = app_with(behaviour)
    chats: dict[str, list[str]] = {}
    records: dict[str, dict[str, Any]] = {}
    app.state.chats = chats
    app.state.records = records
    if version == 2:
        base = chat_path.rstrip("/") + "/api"
        open_path, message_path = f"{base}/open", base + "/chat_message/{chat_id}"
        record_path = base + "/historical_conversation/{chat_id}/record/{record_id}"
        vote_path = base + "/vote/chat/{chat_id}/chat_record/{record_id}"
    else:
        base = f"/api/application/{application_id}"
        open_path, message_path = f"{base}/chat/open", "/api/application/chat_message/{chat_id}"
        record_path = base + "/chat/{chat_id}/chat_record/{record_id}"
        vote_path = record_path + "/vote"

    def unauthorized(request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization")
        if behaviour.api_key is None:
            return None
        if header is None:
            return result(None, 1003, "未登录，请先登录", 401)
        if version == 2:
            if not header.startswith("Bearer "):
                return result(None, 1002, "非法用户！认证信息不正确", 401)
            header = header[len("Bearer ") :]
        if not header.startswith("application-"):
            return result(None, 1002, "非法用户！认证信息不正确", 401)
        if header != behaviour.api_key:
            return result(None, 500, "secret key无效", 401)
        return None

    @app.get(open_path)
    async def open_chat(request: Request) -> Any:
        await received(behaviour, request)
        refused = unauthorized(request)
        if refused is not None:
            return refused
        chat_id = str(uuid.uuid4())
        chats[chat_id] = []
        return result(chat_id)

    @app.post(message_path)
    async def chat_message(chat_id: str, request: Request) -> Any:
        body = await received(behaviour, request)
        refused = unauthorized(request)
        if refused is not None:
            return refused
        if behaviour.status != 200:
            return result(None, 500, "服务器内部错误", behaviour.status)
        if behaviour.extra.pop("forget", False):  # once: as after a restart
            chats.clear()
        if chat_id not in chats:
            return result(None, 500, "对话不存在", 500)
        if not isinstance(body.get("message"), str):
            # a validation error: HTTP 200, code 500 (handle_exception)
            return result(None, 500, "【message】为必填参数")
        question = body["message"]
        chats[chat_id].append(question)
        record_id = str(uuid.uuid1())
        empty = bool(behaviour.extra.get("empty"))
        failed = behaviour.extra.get("fail") == "model"
        if failed:
            answer = "Exception:" + MODEL_FAILURE
        elif empty:
            answer = DESIGNATED.replace("{question}", question)
        else:
            answer = behaviour.answer
        found = [] if empty else [paragraph(version)]
        records[record_id] = record(version, app_type, chat_id, record_id, question, answer, found)
        if not body.get("stream", True):
            data = {
                "chat_id": chat_id,
                "id": record_id,
                "operate": True,
                "content": answer,
                "is_end": True,
                "completion_tokens": 0 if failed else 42,
                "prompt_tokens": 0 if failed else 310,
            }
            return result(data, 500 if failed else 200, status=500 if failed else 200)
        return sse(frames(behaviour, app_type, chat_id, record_id, answer, failed))

    @app.get(record_path)
    async def chat_record(chat_id: str, record_id: str, request: Request) -> Any:
        await received(behaviour, request)
        refused = unauthorized(request)
        if refused is not None:
            return refused
        stored = records.get(record_id)
        if stored is None or stored["chat_id"] != chat_id:
            return result(None, 500, "对话不存在")
        return result(shown(version, stored, show_source, show_exec))

    @app.put(vote_path)
    async def vote(chat_id: str, record_id: str, request: Request) -> Any:
        body = await received(behaviour, request)
        refused = unauthorized(request)
        if refused is not None:
            return refused
        stored = records.get(record_id)
        status = body.get("vote_status")
        if status not in ("-1", "0", "1"):
            return result(None, 500, "【vote_status】为必填参数")
        if stored is None or stored["chat_id"] != chat_id:
            return result(None, 500, "不存在的对话 chat_record_id")
        if stored["vote_status"] != "-1" and status != "-1":
            return result(None, 500, "已经投票过,请先取消后再进行投票")
        stored["vote_status"] = status
        return result(True)

    return app


def record(
    version: int,
    app_type: str,
    chat_id: str,
    record_id: str,
    question: str,
    answer: str,
    paragraphs: list[dict[str, Any]],
) -> dict[str, Any]:
    if app_type == "simple":
        details: dict[str, Any] = {"search_step": {"paragraph_list": paragraphs}}
    else:
        node = "search-dataset-node" if version == 1 else "search-knowledge-node"
        details = {
            "start": {"type": "start-node", "question": question},
            "search": {"type": node, "paragraph_list": paragraphs, "show_knowledge": True},
            "reply": {"type": "ai-chat-node", "answer": answer},
        }
    return {
        "id": record_id,
        "chat_id": chat_id,
        "vote_status": "-1",
        "problem_text": question,
        "answer_text": answer,
        "message_tokens": 310,
        "answer_tokens": 42,
        "improve_paragraph_id_list": [],
        "index": 0,
        "details": details,
    }


def shown(version: int, stored: dict[str, Any], show_source: bool, show_exec: bool) -> Any:
    """What ``reset_chat_record`` shows of a record."""
    details = stored["details"]
    fields = {key: value for key, value in stored.items() if key != "details"}
    search = details.get("search_step", {}).get("paragraph_list") or []
    if version == 1:
        datasets = {p["dataset_id"]: p["dataset_name"] for p in search}
        return {
            **fields,
            "padding_problem_text": None,
            "dataset_list": [{"id": key, "name": name} for key, name in datasets.items()],
            "paragraph_list": search,
            "execution_details": list(details.values()),
        }
    paragraphs = list(search)
    for item in details.values():
        if item.get("type") == "search-knowledge-node" and item.get("show_knowledge"):
            paragraphs += item.get("paragraph_list") or []
    knowledge = {p["knowledge_id"]: p["knowledge_name"] for p in paragraphs}
    source = {
        "knowledge_list": [{"id": key, "knowledge_name": name} for key, name in knowledge.items()],
        "paragraph_list": paragraphs,
    }
    execution = [item for item in details.values() if show_exec or item.get("type") == "start-node"]
    return {
        **fields,
        "padding_problem_text": None,
        **(source if show_source else {}),
        "execution_details": execution,
    }


def chunk(
    chat_id: str,
    record_id: str,
    content: str,
    is_end: bool,
    node: str = "ai-chat-node",
    usage: tuple[int, int] = (0, 0),
) -> str:
    payload = {
        "chat_id": chat_id,
        "chat_record_id": record_id,
        "operate": True,
        "content": content,
        "node_id": node,
        "up_node_id_list": [] if node == "ai-chat-node" else ["start-node"],
        "is_end": is_end,
        "usage": {
            "completion_tokens": usage[0],
            "prompt_tokens": usage[1],
            "total_tokens": sum(usage),
        },
        "node_is_end": is_end,
        "view_type": "many_view",
        "node_type": "ai-chat-node",
        "real_node_id": node,
        "reasoning_content": "",
    }
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def frames(
    behaviour: Behaviour, app_type: str, chat_id: str, record_id: str, answer: str, failed: bool
) -> AsyncIterator[str]:
    node = "ai-chat-node" if app_type == "simple" else "f1e2d3c4-node"
    if failed:
        yield chunk(chat_id, record_id, answer, False, node)
        if app_type == "workflow":
            yield chunk(chat_id, record_id, "", True, node)
        return  # a simple app's failed stream never ends with is_end
    if answer != behaviour.answer:  # the designated answer comes whole
        yield chunk(chat_id, record_id, answer, False, node)
    else:
        async for _, piece in paced(behaviour):
            if behaviour.malformed:
                yield 'data: {"content\n\n'
            yield chunk(chat_id, record_id, piece, False, node)
    yield chunk(chat_id, record_id, "", False, node)  # the reasoning's end, empty
    # MaxKB passes (request tokens, response tokens) as (completion_tokens, prompt_tokens)
    yield chunk(chat_id, record_id, "", True, node, usage=(310, 42))
