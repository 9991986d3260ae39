"""The operators' admin API: unanswered questions, feedback, CSV, hot questions, knowledge-base
reload — through the real app on the bundled sample knowledge base."""

from __future__ import annotations

import csv
import io

import pytest

from tests.gateway.knowledge_copy import add_dog_entry, sample_copy

pytestmark = pytest.mark.anyio

TOKEN = "operator-token-for-tests"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def client(serve_app, monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_ADMIN_TOKEN", TOKEN)
    kb = sample_copy(tmp_path)
    toml = f'[knowledge]\npaths = ["{kb}"]\n[hot]\nmin_count = 2\nfrom_traffic = 3\n'
    async with serve_app(toml) as client:
        client.kb = kb
        yield client


async def ask(client, message: str) -> dict:
    return (await client.post("/api/v1/chat", json={"message": message})).json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/admin/unanswered"),
        ("GET", "/api/v1/admin/unanswered.csv"),
        ("POST", "/api/v1/admin/unanswered/1"),
        ("GET", "/api/v1/admin/feedback"),
        ("GET", "/api/v1/admin/feedback.csv"),
        ("GET", "/api/v1/admin/hot"),
        ("GET", "/api/v1/admin/knowledge"),
        ("POST", "/api/v1/admin/knowledge/reload"),
    ],
)
async def test_every_admin_view_needs_the_token(client, method, path):
    response = await client.request(method, path, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_unanswered_questions_with_counts_marked_and_exported(client):
    for _ in range(3):
        assert not (await ask(client, "我家的猫不吃饭怎么办"))["found"]
    await ask(client, "火星签证怎么办, 联系13812345678")
    listed = (await client.get("/api/v1/admin/unanswered", headers=ADMIN)).json()
    assert listed["total"] == 2
    cat, mars = listed["items"]
    assert (cat["question"], cat["count"], cat["status"]) == ("我家的猫不吃饭怎么办", 3, "open")
    assert cat["first_seen"] <= cat["last_seen"] and cat["reason"] == "not_found"
    assert "13812345678" not in mars["question"], "stored masked"

    resolved = await client.post(
        f"/api/v1/admin/unanswered/{cat['id']}", json={"status": "resolved"}, headers=ADMIN
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    unknown_entry = await client.post(
        f"/api/v1/admin/unanswered/{mars['id']}",
        json={"status": "linked", "entry_id": "no-such-entry"},
        headers=ADMIN,
    )
    assert unknown_entry.status_code == 422 and "no-such-entry" in unknown_entry.text
    linked = await client.post(
        f"/api/v1/admin/unanswered/{mars['id']}",
        json={"status": "linked", "entry_id": "passport-apply"},
        headers=ADMIN,
    )
    assert linked.json()["entry_id"] == "passport-apply"
    missing = await client.post(
        "/api/v1/admin/unanswered/999999", json={"status": "resolved"}, headers=ADMIN
    )
    assert missing.status_code == 404
    still_open = await client.get("/api/v1/admin/unanswered?status=open", headers=ADMIN)
    assert still_open.json() == {"total": 0, "items": []}

    exported = await client.get("/api/v1/admin/unanswered.csv", headers=ADMIN)
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [(row["question"], row["count"], row["status"]) for row in rows] == [
        ("我家的猫不吃饭怎么办", "3", "resolved"),
        (mars["question"], "1", "linked"),
    ]


async def test_feedback_with_totals_and_a_csv_safe_for_spreadsheets(client):
    answer = await ask(client, "居住证怎么办理")
    for helpful, comment in [(False, '=HYPERLINK("http://evil")'), (True, "很好"), (False, "")]:
        await client.post(
            "/api/v1/feedback",
            json={"message_id": answer["message_id"], "helpful": helpful, "comment": comment},
        )
    listed = (await client.get("/api/v1/admin/feedback?helpful=false", headers=ADMIN)).json()
    assert listed["total"] == 2
    assert listed["summary"]["helpful"] == 1 and listed["summary"]["not_helpful"] == 2
    [worst] = listed["summary"]["worst"]
    assert (worst["backend"], worst["question"], worst["not_helpful"]) == (
        "faq",
        "居住证怎么办理",
        2,
    )
    assert worst["entry_id"] == "residence-permit-apply"
    assert listed["items"][0]["question"] == "居住证怎么办理"
    exported = await client.get("/api/v1/admin/feedback.csv", headers=ADMIN)
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert len(rows) == 3
    assert {row["comment"] for row in rows} == {'\'=HYPERLINK("http://evil")', "很好", ""}


async def test_hot_questions_from_traffic_lead_the_curated_list(client):
    before = (await client.get("/api/v1/hot")).json()["questions"]
    for _ in range(3):
        assert (await ask(client, "领结婚证需要带什么"))["found"]
    view = (await client.get("/api/v1/admin/hot", headers=ADMIN)).json()
    assert view["traffic"][0]["id"] == "marriage-registration"
    assert view["traffic"][0]["count"] == pytest.approx(3, abs=0.01)
    assert view["shown"][0]["id"] == "marriage-registration"
    assert [item["id"] for item in view["curated"]] == [item["id"] for item in before]
    # Residents see the same merged list (read again at most every 30 s; this one is new).
    assert view["shown"][: len(before)][1:] == view["curated"][: len(before) - 1]


async def test_the_knowledge_base_is_reloaded_without_a_restart(client):
    assert not (await ask(client, "狗证怎么办"))["found"]
    add_dog_entry(client.kb)
    reloaded = await client.post("/api/v1/admin/knowledge/reload", headers=ADMIN)
    assert reloaded.json()["entries"] == 178 and reloaded.json()["generation"] == 1
    assert "犬只登记" in (await ask(client, "狗证怎么办"))["answer"]
    (client.kb / "broken.jsonl").write_text('{"id": "x"}\n')
    broken = await client.post("/api/v1/admin/knowledge/reload", headers=ADMIN)
    assert broken.status_code == 422 and "broken.jsonl" in broken.json()["error"]["message"]
    assert (await ask(client, "狗证怎么办"))["found"], "the old index stays in place"
    knowledge = (await client.get("/api/v1/admin/knowledge", headers=ADMIN)).json()
    assert knowledge["entries"] == 178 and knowledge["generation"] == 1


async def test_the_admin_page_is_served_in_the_operators_language_and_never_framed(client):
    page = await client.get("/admin?lang=en")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="en" dir="ltr">' in page.text and "Sign in" in page.text
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-frame-options"] == "DENY"
    chinese = await client.get("/admin", headers={"Accept-Language": "zh-HK"})
    assert '<html lang="zh-HK"' in chinese.text and "登入" in chinese.text
    script = await client.get("/admin/admin.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert (await client.get("/admin/secrets.txt")).status_code == 404


async def test_the_sources_list_each_file_and_follow_a_reload(client):
    before = (await client.get("/api/v1/admin/sources", headers=ADMIN)).json()
    assert before["totals"]["entries"] == 177 and before["totals"]["problems"] == 0
    assert before["built_at"] and before["last_reload"] is None
    kinds = {row["kind"] for row in before["files"]}
    assert kinds == {"entries"}, kinds
    assert all(row["entries"] > 0 and row["problems"] == [] for row in before["files"])

    # A FAQ sheet with a row lacking its answer, and an empty document: reported, not fatal.
    (client.kb / "faq.csv").write_text(
        "问题,答案,链接\n狗证怎么办,带身份证去派出所。,https://zwfw.example.org/dog\n猫证呢,,\n",
        encoding="utf-8",
    )
    (client.kb / "empty.md").write_text("", encoding="utf-8")
    reloaded = await client.post("/api/v1/admin/knowledge/reload", headers=ADMIN)
    assert reloaded.status_code == 200
    after = (await client.get("/api/v1/admin/sources", headers=ADMIN)).json()
    by_name = {row["file"].rsplit("/", 1)[-1]: row for row in after["files"]}
    sheet, empty = by_name["faq.csv"], by_name["empty.md"]
    assert (sheet["kind"], sheet["entries"]) == ("sheet", 1)
    assert len(sheet["problems"]) == 1 and "faq.csv:3" in sheet["problems"][0]
    assert (empty["kind"], empty["entries"], empty["passages"]) == ("md", 0, 0)
    assert empty["problems"] and "empty.md" in empty["problems"][0]
    assert after["totals"]["entries"] == 178 and after["totals"]["problems"] == 2
    assert after["built_at"] > before["built_at"]
    changed = {name.rsplit("/", 1)[-1] for name in after["last_reload"]["changed"]}
    assert changed == {"faq.csv", "empty.md"} and after["last_reload"]["problems"] == []

    # A reload refused keeps the sources of the base in use and says why.
    (client.kb / "broken.jsonl").write_text('{"id": "x"}\n')
    assert (await client.post("/api/v1/admin/knowledge/reload", headers=ADMIN)).status_code == 422
    refused = (await client.get("/api/v1/admin/sources", headers=ADMIN)).json()
    assert refused["totals"] == after["totals"]
    assert any("broken.jsonl" in problem for problem in refused["last_reload"]["problems"])


async def test_unanswered_questions_are_grouped_by_meaning_and_exported_by_row(client):
    for question in ["狗狗打狂犬疫苗去哪里", "狗狗打狂犬疫苗去哪里", "宠物狗在哪里可以打疫苗",
                     "今天天气怎么样"]:  # fmt: skip
        assert not (await ask(client, question))["found"]
    grouped = (await client.get("/api/v1/admin/unanswered/groups", headers=ADMIN)).json()
    assert (grouped["method"], grouped["fallback"]) == ("embedding", "")
    assert grouped["total"] == 2 and grouped["questions"] == 3
    dogs, weather = grouped["items"]
    assert (dogs["question"], dogs["count"], dogs["status"]) == ("狗狗打狂犬疫苗去哪里", 3, "open")
    assert [m["question"] for m in dogs["members"]] == [
        "狗狗打狂犬疫苗去哪里",
        "宠物狗在哪里可以打疫苗",
    ]
    assert dogs["languages"] == ["zh"] and weather["count"] == 1

    # Marking a member changes the group's status to mixed; the open list keeps the other.
    second = dogs["members"][1]["id"]
    await client.post(
        f"/api/v1/admin/unanswered/{second}", json={"status": "resolved"}, headers=ADMIN
    )
    every = (await client.get("/api/v1/admin/unanswered/groups", headers=ADMIN)).json()
    assert every["items"][0]["status"] == "mixed"
    still_open = await client.get("/api/v1/admin/unanswered/groups?status=open", headers=ADMIN)
    assert [len(item["members"]) for item in still_open.json()["items"]] == [1, 1]

    exported = await client.get("/api/v1/admin/unanswered.csv", headers=ADMIN)
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [(row["question"], row["group"], row["group_question"]) for row in rows] == [
        ("狗狗打狂犬疫苗去哪里", "1", "狗狗打狂犬疫苗去哪里"),
        ("宠物狗在哪里可以打疫苗", "1", "狗狗打狂犬疫苗去哪里"),
        ("今天天气怎么样", "2", "今天天气怎么样"),
    ]


async def test_without_an_embedder_only_the_same_text_is_grouped(serve_app, monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_ADMIN_TOKEN", TOKEN)
    toml = f'[knowledge]\npaths = ["{sample_copy(tmp_path)}"]\nembedder = "none"\n'
    async with serve_app(toml) as client:
        for question in ["我家的猫不吃饭怎么办", "我家的猫 不吃饭，怎么办？", "我家的猫咪不吃饭"]:
            assert not (await ask(client, question))["found"]
        grouped = (await client.get("/api/v1/admin/unanswered/groups", headers=ADMIN)).json()
    assert (grouped["method"], grouped["fallback"], grouped["by_meaning"]) == (
        "text",
        "no_embedder",
        0,
    )
    assert sorted(len(item["members"]) for item in grouped["items"]) == [1, 2]


async def test_a_reload_sees_a_file_changed_in_a_subfolder(client):
    # The base reads subfolders; the reload's check for changed files must look there too.
    (client.kb / "pets").mkdir()
    add_dog_entry(client.kb / "pets")  # in a new folder under the base
    reloaded = (await client.post("/api/v1/admin/knowledge/reload", headers=ADMIN)).json()
    assert reloaded["entries"] == 178
    sources = (await client.get("/api/v1/admin/sources", headers=ADMIN)).json()
    assert [name.rsplit("/", 2)[-2:] for name in sources["last_reload"]["changed"]] == [
        ["pets", "pets.jsonl"]
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/v1/admin/unanswered?offset={2**64}"),
        ("GET", f"/api/v1/admin/feedback?offset={10**30}"),
        ("POST", f"/api/v1/admin/unanswered/{2**63}"),
        ("POST", f"/api/v1/admin/unanswered/{-(2**70)}"),
    ],
)
async def test_integers_the_database_cannot_hold_are_refused_not_a_server_error(
    client, method, path
):
    body = {"status": "resolved"} if method == "POST" else None
    response = await client.request(method, path, json=body, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"


async def test_exports_are_documented_as_csv(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/api/v1/admin/unanswered.csv", "/api/v1/admin/feedback.csv"):
        assert set(paths[path]["get"]["responses"]["200"]["content"]) == {"text/csv"}
        exported = await client.get(path, headers=ADMIN)
        assert exported.headers["content-type"].startswith("text/csv")
