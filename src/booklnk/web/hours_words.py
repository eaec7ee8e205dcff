"""The owner's hours settings: weekly hours and breaks, a staff member's own week, special dates and time off:
their words, Arabic first; `words.WORDS` merges them."""

from __future__ import annotations

HOURS_WORDS: dict[str, dict[str, str]] = {
    "ar": {
        "hours_title": "المواعيد",
        "hours_lead": "ساعات العمل وفترات الراحة، وأسبوع كل فرد في الفريق، والأيام الخاصة، والإجازات.",
        "hours_week_business": "ساعات عمل المكان",
        "hours_week_staff": "أسبوع {name}",
        "hours_week_note": (
            "فترتان في اليوم على الأكثر؛ ما بينهما استراحة. اترك الفترة الثانية فارغة إن لم تكن هناك استراحة."
        ),
        "hours_staff_note": (
            "يعمل الفرد داخل ساعات المكان فقط: اجعل أسبوعه أضيق لمن يعمل بعد الظهر فقط أو له استراحة غداء."
        ),
        "hours_whose_week": "أسبوع من؟",
        "hours_the_business": "المكان كله",
        "hours_show_week": "اعرض",
        "hours_period_1": "الفترة الأولى",
        "hours_period_2": "الفترة الثانية (اختيارية)",
        "hours_opens": "من",
        "hours_closes": "إلى",
        "hours_open_on": "يعمل",
        "hours_more_periods": "لهذا اليوم أكثر من فترتين محفوظتين؛ الحفظ هنا يُبقي أول فترتين فقط.",
        "hours_save_week": "احفظ الأسبوع",
        "hours_special": "الأيام الخاصة القادمة",
        "hours_special_none": "لا أيام خاصة قادمة.",
        "hours_closed_all_day": "مغلق",
        "hours_delete": "احذف",
        "hours_delete_range": "احذف {dates}",
        "hours_add_special": "أضف أيامًا خاصة",
        "hours_time_off": "إجازات الفريق",
        "hours_time_off_none": "لا إجازات قادمة.",
        "hours_time_off_note": (
            "بالتوقيت المحلي للمكان. بدون وقت: من بداية اليوم الأول إلى نهاية اليوم الأخير."
        ),
        "hours_member": "الفرد",
        "hours_off_from": "من يوم",
        "hours_off_from_time": "من الساعة (اختياري)",
        "hours_off_to": "إلى يوم",
        "hours_off_to_time": "إلى الساعة (اختياري)",
        "hours_reason": "السبب (اختياري)",
        "hours_add_time_off": "أضف الإجازة",
        "hours_no_staff": "لا أحد في الفريق بعد.",
        "hours_field_from": "أول يوم",
        "hours_field_to": "آخر يوم",
        "hours_field_off_from": "من يوم",
        "hours_field_off_to": "إلى يوم",
        "hours_field_off_start": "من الساعة",
        "hours_field_off_end": "إلى الساعة",
        "hours_field_reason": "السبب",
        "hours_field_staff": "الفرد",
        "hours_rule_wall_clock": "اكتب الوقت بالشكل HH:MM، مثل 14:30.",
        "hours_rule_required": "هذا الحقل مطلوب.",
        "hours_rule_end_not_after_start": "يجب أن تكون النهاية بعد البداية.",
        "hours_rule_overlapping_hours": "الفترتان متداخلتان.",
        "hours_rule_date": "اختر تاريخًا.",
        "hours_rule_date_range": "اختر تاريخًا بين {first_year} و{last_year}.",
        "hours_delete_time_off": "احذف إجازة {name}: {dates}",
        "hours_rule_valid_window": "من يوم واحد إلى {days} يومًا، من الأول إلى الآخر.",
        "hours_rule_too_long": "طويل جدًا.",
        "hours_rule_invalid": "القيمة غير صالحة.",
    },
    "en": {
        "hours_title": "Hours",
        "hours_lead": "Opening hours and breaks, each team member's own week, special dates and time off.",
        "hours_week_business": "The business's hours",
        "hours_week_staff": "{name}'s week",
        "hours_week_note": (
            "Up to two periods a day; the gap between them is a break. "
            "Leave the second period empty for none."
        ),
        "hours_staff_note": (
            "A team member works only inside the business's hours: narrow "
            "their week for afternoons only or a lunch break."
        ),
        "hours_whose_week": "Whose week?",
        "hours_the_business": "The whole business",
        "hours_show_week": "Show",
        "hours_period_1": "First period",
        "hours_period_2": "Second period (optional)",
        "hours_opens": "From",
        "hours_closes": "To",
        "hours_open_on": "Working",
        "hours_more_periods": (
            "This day has more than two saved periods; saving here keeps the first two only."
        ),
        "hours_save_week": "Save the week",
        "hours_special": "Upcoming special dates",
        "hours_special_none": "No special dates ahead.",
        "hours_closed_all_day": "Closed",
        "hours_delete": "Delete",
        "hours_delete_range": "Delete {dates}",
        "hours_add_special": "Add special dates",
        "hours_time_off": "Team time off",
        "hours_time_off_none": "No time off ahead.",
        "hours_time_off_note": (
            "In the business's local time. Without times: from the start "
            "of the first day to the end of the last."
        ),
        "hours_member": "Team member",
        "hours_off_from": "From day",
        "hours_off_from_time": "From time (optional)",
        "hours_off_to": "To day",
        "hours_off_to_time": "To time (optional)",
        "hours_reason": "Reason (optional)",
        "hours_add_time_off": "Add the time off",
        "hours_no_staff": "No one on the team yet.",
        "hours_field_from": "First day",
        "hours_field_to": "Last day",
        "hours_field_off_from": "From day",
        "hours_field_off_to": "To day",
        "hours_field_off_start": "From time",
        "hours_field_off_end": "To time",
        "hours_field_reason": "Reason",
        "hours_field_staff": "Team member",
        "hours_rule_wall_clock": "Give the time as HH:MM, e.g. 14:30.",
        "hours_rule_required": "This field is required.",
        "hours_rule_end_not_after_start": "The end must be later than the start.",
        "hours_rule_overlapping_hours": "The two periods overlap.",
        "hours_rule_date": "Pick a date.",
        "hours_rule_date_range": "Pick a date from {first_year} to {last_year}.",
        "hours_delete_time_off": "Delete {name}'s time off: {dates}",
        "hours_rule_valid_window": "From 1 to {days} days, first to last.",
        "hours_rule_too_long": "Too long.",
        "hours_rule_invalid": "This value is not valid.",
    },
}
