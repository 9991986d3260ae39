from gateway.text import markdown_to_text


def test_markdown_symbols_are_dropped_and_structure_kept():
    markdown = (
        "**条件**：居住半年。\n\n1. 身份证\n2. [照片](https://x.example)\n\n- 甲\n- 乙\n\n> `注意`"
    )
    assert markdown_to_text(markdown) == "条件：居住半年。\n1. 身份证\n2. 照片\n• 甲\n• 乙\n注意"


def test_ordered_lists_keep_their_start_number():
    assert markdown_to_text("3. 三\n4. 四") == "3. 三\n4. 四"


def test_raw_html_does_not_leak_tags():
    assert "<" not in markdown_to_text("<b>粗</b> 体 <script>x</script>")
