import pytest

from harness.text import split_sentences, unbalanced_quotes


@pytest.mark.parametrize(
    "paragraph, expected",
    [
        ("第一句。第二句。", ["第一句。", "第二句。"]),
        ("没有句号", ["没有句号"]),
        ("问吗？答！好", ["问吗？", "答！", "好"]),
        ("半角?也行!对", ["半角?", "也行!", "对"]),
        ("“太忙了。”这是他的话。", ["“太忙了。”", "这是他的话。"]),
        # A quotation that continues after a full stop is never split.
        ("他说:“第一句。第二句。”然后走了。", ["他说:“第一句。第二句。”", "然后走了。"]),
        # Nested quotation closing together with the outer one.
        ("“他说‘好。’”完。", ["“他说‘好。’”", "完。"]),
        # Nested quotation closing while the outer one continues.
        ("“他说‘好。’我们走。”完。", ["“他说‘好。’我们走。”", "完。"]),
        ("合作关系……通过合作。", ["合作关系……", "通过合作。"]),
        ("真的吗?!是的。", ["真的吗?!", "是的。"]),
        ("", []),
    ],
)
def test_split_sentences(paragraph, expected):
    assert split_sentences(paragraph) == expected
    assert "".join(split_sentences(paragraph)) == paragraph


@pytest.mark.parametrize(
    "paragraph, unbalanced",
    [("“好”", False), ("“好", True), ("好”", True), ("“‘好’”", False), ("无引号", False)],
)
def test_unbalanced_quotes(paragraph, unbalanced):
    assert unbalanced_quotes(paragraph) is unbalanced
