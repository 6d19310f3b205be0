"""A stored reason for two audiences: composed so that its Chinese half is whole, read back per half."""

from __future__ import annotations

from models.bilingual import Bilingual, chinese, english


def test_a_reason_of_several_parts_keeps_every_chinese_part_before_the_english():
    score = Bilingual("督导评分40.0分（合格分60分）", "scored 40.0 (pass mark 60)")
    override = Bilingual("督导改判：台账缺失", "overridden: 台账缺失")
    late = Bilingual("未按期提交中期报告", "the grantee's report was not submitted on time")
    stored = str(Bilingual("中期评估未通过：", "failed: ") + Bilingual.join([late, score, override]))
    assert (
        chinese(stored)
        == "中期评估未通过：未按期提交中期报告；督导评分40.0分（合格分60分）；督导改判：台账缺失"
    )
    assert english(stored).startswith("failed: the grantee's report was not submitted on time; scored 40.0")
    assert Bilingual.parse(stored) == Bilingual(chinese(stored), english(stored))


def test_a_person_s_text_is_the_same_in_both_languages():
    assert chinese("整改后复查合格") == english("整改后复查合格") == "整改后复查合格"
    assert str(Bilingual("整改后复查合格", "整改后复查合格")) == "整改后复查合格"


def test_the_separator_inside_a_chinese_part_cannot_split_it():
    typed = Bilingual("活动A / 活动B均未开展", "activities A and B were not held")
    assert chinese(str(typed)) == "活动A／活动B均未开展"
    assert english(str(typed)) == "activities A and B were not held"
