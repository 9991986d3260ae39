"""The transcript's markup: what screen readers, the accessibility script and residents get."""

import re

from portal.render import Message, Transcript, chips, render

REPLY = {
    "message_id": "m1",
    "session_id": "s1",
    "answer": "**办理条件**：居住半年以上。\n\n1. 先登记\n2. 再申领\n\n见[指南](https://zwfw.example.org/g)",
    "answer_text": "办理条件：居住半年以上。\n1. 先登记\n2. 再申领\n见指南",
    "language": "zh",
    "found": True,
    "citations": [
        {"title": "居住证申领指南（示例）", "url": "https://zwfw.example.org/guide"},
        {"title": "no link", "url": ""},
        {"title": "script", "url": "javascript:alert(1)"},
    ],
    "suggestions": ["居住证每年都要签注吗？"],
    "notices": [
        {"code": "personal_data_hidden", "message": "为保护您的隐私，您输入的手机号码已隐藏。"}
    ],
    "backend": "faq",
    "did_you_mean": None,
}


def conversation(reply=REPLY, locale="zh-CN", asked="居住证怎么办理", **state):
    messages = [Message("user", asked), Message.answer(reply, asked=asked)]
    return render(Transcript(messages, **state), locale)


def test_the_transcript_is_a_named_log_reached_by_its_shortcut_with_a_status_and_an_alert():
    html = conversation(state="done")
    log = re.search(r'<div id="transcript"[^>]*>', html)[0]
    assert 'role="log"' in log and 'aria-labelledby="conversation-heading"' in log
    # focusable by its shortcut; no scroll of its own, so no stop in the tab order
    assert 'tabindex="-1"' in log and 'aria-busy="false"' in log
    assert '<h2 id="conversation-heading" class="section-heading">对话记录</h2>' in html
    assert '<p class="status" role="status"></p>' in html
    assert '<div class="alert" role="alert"></div>' in html


def test_searching_is_a_status_and_the_log_is_busy_until_the_answer_is_complete():
    searching = render(Transcript([Message("user", "问")], state="searching"), "zh-CN")
    assert '<p class="status" role="status">正在查找…</p>' in searching
    assert 'aria-busy="true"' in searching
    streaming = render(
        Transcript([Message("user", "问")], state="streaming", partial="**部分**"), "zh-CN"
    )
    assert 'aria-busy="true"' in streaming and "<strong>部分</strong>" in streaming
    assert '<p class="status" role="status"></p>' in streaming
    # the answer on its way is not yet a message: it is announced once, when complete
    assert streaming.count("data-announce") == 1


def test_each_message_carries_one_clean_announcement_with_a_localized_speaker():
    html = conversation(state="done")
    announcements = re.findall(r'data-announce="([^"]*)"', html)
    assert announcements[0] == "您说：居住证怎么办理"
    assert announcements[1].startswith("智能客服说：办理条件：居住半年以上。")
    assert "**" not in announcements[1] and "[" not in announcements[1]
    english = conversation(locale="en")
    assert re.findall(r'data-announce="([^"]*)"', english)[0] == "You said: 居住证怎么办理"
    assert 'data-speaker="Assistant said"' in english


def test_citations_are_web_links_that_say_they_open_a_new_window():
    html = conversation(locale="en")
    sources = re.search(r'<ol class="sources">(.*?)</ol>', html)[1]
    assert sources.count("<li>") == 1  # the empty and javascript: URLs are dropped
    assert 'href="https://zwfw.example.org/guide"' in sources
    assert 'target="_blank" rel="noopener noreferrer"' in sources
    assert "(opens in a new window)" in sources
    # links inside the answer open a new window too
    assert re.search(r'<a href="https://zwfw.example.org/g" target="_blank" rel="noopener', html)


def test_foreign_language_parts_are_marked_with_their_language():
    html = conversation(locale="en")
    assert '<span lang="zh">居住证申领指南（示例）</span>' in html
    # and both say they are not translated, in the page's language
    assert '<div class="answer" dir="auto" lang="zh" data-untranslated>' in html
    assert '<p class="notice">This answer is not available in English yet;' in html
    assert '<span class="untranslated-mark">(not translated)</span>' in html
    english = dict(
        REPLY,
        answer="Go to the 派出所 with your passport.",
        answer_text="Go to the 派出所 with your passport.",
        language="en",
    )
    html = conversation(english, locale="en", asked="where")
    assert 'Go to the <span lang="zh">派出所</span> with your passport.' in html
    # Chinese in a Chinese page is not marked; an English answer there is
    assert 'lang="en"' in conversation(english, locale="zh-CN", asked="哪里")
    assert '<span lang="zh">' not in conversation(locale="zh-CN")


def test_notices_suggestions_and_read_aloud_are_shown_with_the_answer():
    html = conversation(state="done")
    assert '<p class="notice">为保护您的隐私，您输入的手机号码已隐藏。</p>' in html
    assert '<h4 class="label">您可能还想问</h4>' in html
    assert 'data-ask="居住证每年都要签注吗？"' in html
    assert (
        '<button type="button" class="read-aloud" data-read="m1" '
        'data-unavailable="此语言暂不能朗读">朗读这条回答</button>'
    ) in html


def test_each_message_is_an_article_named_by_its_heading_with_headings_for_its_parts():
    html = conversation(state="done")
    articles = re.findall(r'<article [^>]*aria-labelledby="(m\d-heading)"', html)
    assert articles == ["m0-heading", "m1-heading"]
    assert '<h3 class="speaker" id="m0-heading">您说</h3>' in html
    assert '<h3 class="speaker" id="m1-heading">智能客服说</h3>' in html
    assert '<h4 class="label">信息来源</h4>' in html
    # a Chinese answer on a Chinese page is not marked as untranslated
    assert "data-untranslated" not in html and "untranslated-mark" not in html


def test_did_you_mean_offers_to_ask_exactly_what_was_typed():
    corrected = dict(REPLY, did_you_mean="居住证怎么办理")
    html = conversation(corrected, asked="juzhuzheng zenme banli", state="done")
    assert '<p class="did-you-mean">您是不是要问：居住证怎么办理</p>' in html
    chip = re.search(r'<button[^>]*data-correct="false"[^>]*>(.*?)</button>', html)
    assert 'data-ask="juzhuzheng zenme banli"' in chip[0]
    assert re.sub("<[^>]+>", "", chip[1]) == "按我输入的原文查找：juzhuzheng zenme banli"
    assert "did-you-mean" not in conversation(state="done")


def test_did_you_mean_on_a_foreign_page_marks_the_chinese_it_shows():
    corrected = dict(REPLY, did_you_mean="居住证怎么办理")
    english = conversation(corrected, locale="en", asked="居主证")
    # the gateway's correction: Chinese, in its language, said to be untranslated
    assert (
        '<p class="did-you-mean" data-untranslated>Did you mean: <span lang="zh">居住证怎么办理'
        '</span><span class="untranslated-mark">(not translated)</span></p>'
    ) in english
    # what the resident typed: their own words, in their language, not called untranslated
    assert (
        'Search for what I typed: <bdi class="resident-words" dir="auto">'
        '<span lang="zh">居主证</span></bdi>'
    ) in english
    pinyin = conversation(corrected, locale="en", asked="juzhuzheng")
    assert "Search for what I typed: <bdi" in pinyin and ">juzhuzheng</bdi>" in pinyin


def test_markup_from_back_ends_and_residents_is_shown_as_text():
    hostile = dict(REPLY, answer='<img src=x onerror="alert(1)"> **ok**', answer_text="ok")
    html = conversation(hostile, asked='<script>alert("q")</script>')
    assert "<img" not in html and "<script>" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html


def test_errors_are_alerts_and_stay_in_the_transcript():
    messages = [Message("user", "问"), Message("assistant", "抱歉，请拨打 12345。", error=True)]
    html = render(Transcript(messages, state="done", alert="抱歉，请拨打 12345。"), "zh-CN")
    assert '<div class="alert" role="alert">抱歉，请拨打 12345。</div>' in html
    assert "from-assistant error" in html and "read-aloud" not in html


def test_an_empty_conversation_invites_a_question_and_chips_ask():
    html = render(Transcript([]), "en")
    assert (
        '<p class="empty">Hello! Type your question below, or choose a popular question.</p>'
        in html
    )
    assert chips(["社保卡"], "en") == (
        '<li><button type="button" class="chip" dir="auto" data-ask="社保卡" data-untranslated>'
        '<span lang="zh">社保卡</span><span class="untranslated-mark">(not translated)</span>'
        "</button></li>"
    )
    assert chips(["How do I get a 居住证?"], "en").count("untranslated") == 2
    assert "untranslated" not in chips(["社保卡"], "zh-HK")
    # Japanese written with kanji is Japanese; kanji alone on a Japanese page is Chinese
    assert "untranslated" not in chips(["在留カードの申請"], "ja")
    assert "data-untranslated" in chips(["居住证怎么办理"], "ja")
