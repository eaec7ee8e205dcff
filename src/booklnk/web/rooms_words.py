"""The owner's rooms and chairs, and class series: their words, Arabic first; `words.WORDS` merges them."""

from __future__ import annotations

ROOMS_WORDS: dict[str, dict[str, str]] = {
    "ar": {
        "rooms_lead": (
            "الكراسي والغرف التي تحتاجها خدماتك: لا تُحجز خدمة تحتاج كرسيًا إلا إذا كان هناك كرسي متاح في ذلك"
            " الوقت."
        ),
        "rooms_fix": "راجع ما يلي:",
        "rooms_list": "الغرف والكراسي الحالية",
        "rooms_none": "لا غرف ولا كراسي بعد.",
        "rooms_inactive": "موقوف",
        "rooms_new_name": "الاسم الجديد",
        "rooms_rename": "غيّر الاسم",
        "rooms_deactivate": "أوقف",
        "rooms_deactivate_note": "لا يُحجز بعد الإيقاف، وتبقى الحجوزات السابقة كما هي.",
        "rooms_reactivate": "أعد التفعيل",
        "rooms_add_title": "أضف غرفة أو كرسيًا",
        "rooms_name": "الاسم",
        "rooms_kind": "النوع",
        "rooms_kind_hint": "بالإنجليزية وبحروف صغيرة، مثل chair للكرسي أو room للغرفة.",
        "rooms_kind_rule": (
            "اكتب النوع بحروف إنجليزية صغيرة تبدأ بحرف، ويمكن أن تليها أرقام أو - أو _ (مثل chair أو room)."
        ),
        "rooms_add": "أضف",
        "rooms_needs_title": "ما تحتاجه كل خدمة",
        "rooms_needs_note": "اختر لكل خدمة الأنواع التي تحتاجها: يُحجز لها واحد من كل نوع مختار.",
        "rooms_needs_kinds": "تحتاج إلى",
        "rooms_needs_no_kinds": "أضف غرفة أو كرسيًا أولًا.",
        "rooms_needs_missing": "هذه الخدمة تحتاج {kind} ولا يوجد واحد مفعّل: لن تُحجز حتى تضيفه.",
        "rooms_needs_save": "احفظ",
        "classes_not_class": (
            "جدول الحصص للأنشطة التي تقدم حصصًا جماعية (مثل الصالات الرياضية). هذا النشاط يحجز مواعيد فردية."
        ),
        "classes_fix": "راجع ما يلي:",
        "classes_list": "الحصص المتكررة",
        "classes_none": "لا حصص منشورة قادمة.",
        "classes_when": "الموعد",
        "classes_length": "المدة (بالدقائق)",
        "classes_duration": "المدة",
        "classes_length_hint": "اتركها فارغة لمدة الخدمة.",
        "classes_instructor": "المدرب",
        "classes_room": "الغرفة",
        "classes_room_auto": "تلقائيًا (إن كانت هناك واحدة فقط)",
        "classes_capacity": "عدد الأماكن",
        "classes_capacity_hint": "اتركه فارغًا لعدد أماكن الخدمة.",
        "classes_next": "الحصص القادمة:",
        "classes_seats": "{taken} محجوز، {left} متاح",
        "classes_weekly": "أيام {days} الساعة {time}",
        "classes_until_on": "حتى {day}",
        "classes_count_of": "عدد الحصص: {count}",
        "classes_cancel": "ألغِ هذه الحصص",
        "classes_publish_title": "انشر حصة أسبوعية",
        "classes_needs_setup": "أضف خدمة ومدربًا أولًا:",
        "classes_service": "الخدمة",
        "classes_days": "الأيام",
        "classes_start_time": "وقت البدء",
        "classes_first_date": "أول يوم",
        "classes_ends_note": "تنتهي في تاريخ أو بعد عدد من الحصص، أو اتركهما فارغين لتستمر.",
        "classes_until": "آخر يوم",
        "classes_count": "عدد الحصص",
        "classes_publish": "انشر الحصص",
        "classes_cancel_title": "إلغاء الحصص المتكررة",
        "classes_cancel_explain": (
            "سيُلغى كل ما لم يبدأ من هذه الحصص (الحصص القادمة: {sessions})، وتُلغى حجوزاتها"
            " (الأماكن المحجوزة: {seats}) من جهة المكان، ويُرد لكل عميل كل ما دفعه، وتُغلق قوائم الانتظار."
            " تبقى الحصص السابقة كما هي، ولا يمكن التراجع."
        ),
        "classes_cancel_confirm": "نعم، ألغِ الحصص ورد المبالغ",
        "classes_keep": "لا، أبقِ الحصص",
        "classes_cancelled_already": "أُلغيت هذه الحصص من قبل.",
        "classes_days_rule": "اختر يومًا واحدًا على الأقل.",
        "classes_time_rule": "اكتب الوقت بالشكل HH:MM، مثل 18:00.",
        "classes_date_rule": "اختر تاريخًا صحيحًا.",
        "classes_until_rule": "آخر يوم يأتي بعد أول يوم أو يساويه.",
        "classes_ends_rule": "اختر آخر يوم أو عدد الحصص، لا الاثنين معًا.",
        "classes_number_rule": "اكتب عددًا صحيحًا من 1 إلى {most}.",
        "classes_off_grid": "يبدأ الموعد على جدول المواعيد (كل نصف ساعة مثلًا)، مثل 18:00 أو 18:30.",
        "classes_outside_hours": "المكان مغلق في بعض هذه المواعيد. راجع ساعات العمل.",
        "classes_length_rule": "اختر مدة من مدد هذه الخدمة.",
        "classes_room_rule": "اختر الغرفة التي تُقام فيها الحصة.",
        "classes_no_room": "هذه الخدمة تحتاج غرفة ولا توجد غرفة مفعّلة. أضفها من صفحة الغرف والكراسي.",
        "classes_no_occurrences": "لا تقع أي حصة في هذه الأيام والتواريخ.",
        "classes_busy": "المدرب أو الغرفة مشغول في بعض هذه المواعيد. اختر وقتًا آخر أو مدربًا آخر.",
        "classes_pick_rule": "اختر من القائمة.",
    },
    "en": {
        "rooms_lead": (
            "The chairs and rooms your services need: a service needing a chair is booked only when a chair"
            " is free then."
        ),
        "rooms_fix": "Check the following:",
        "rooms_list": "Your rooms and chairs",
        "rooms_none": "No rooms or chairs yet.",
        "rooms_inactive": "Deactivated",
        "rooms_new_name": "New name",
        "rooms_rename": "Rename",
        "rooms_deactivate": "Deactivate",
        "rooms_deactivate_note": "It is not booked once deactivated; bookings already made stay as they are.",
        "rooms_reactivate": "Reactivate",
        "rooms_add_title": "Add a room or a chair",
        "rooms_name": "Name",
        "rooms_kind": "Kind",
        "rooms_kind_hint": "In small English letters, such as chair or room.",
        "rooms_kind_rule": (
            "Write the kind in small English letters, starting with a letter, then digits, - or _ if needed"
            " (such as chair or room)."
        ),
        "rooms_add": "Add",
        "rooms_needs_title": "What each service needs",
        "rooms_needs_note": "Tick the kinds each service needs: one of each kind ticked is booked with it.",
        "rooms_needs_kinds": "Needs",
        "rooms_needs_no_kinds": "Add a room or a chair first.",
        "rooms_needs_missing": (
            "This service needs a {kind} and none is active: it cannot be booked until you add one."
        ),
        "rooms_needs_save": "Save",
        "classes_not_class": (
            "The class timetable is for businesses that run group classes (a gym, for one). This business"
            " books appointments."
        ),
        "classes_fix": "Check the following:",
        "classes_list": "Recurring classes",
        "classes_none": "No upcoming classes published.",
        "classes_when": "When",
        "classes_length": "Length (minutes)",
        "classes_duration": "Length",
        "classes_length_hint": "Leave empty for the service's length.",
        "classes_instructor": "Instructor",
        "classes_room": "Room",
        "classes_room_auto": "Automatic (when there is only one)",
        "classes_capacity": "Places",
        "classes_capacity_hint": "Leave empty for the service's number of places.",
        "classes_next": "Next sessions:",
        "classes_seats": "{taken} taken, {left} left",
        "classes_weekly": "Every {days} at {time}",
        "classes_until_on": "until {day}",
        "classes_count_of": "{count} sessions",
        "classes_cancel": "Cancel these classes",
        "classes_publish_title": "Publish a weekly class",
        "classes_needs_setup": "Add a service and an instructor first:",
        "classes_service": "Service",
        "classes_days": "Days",
        "classes_start_time": "Start time",
        "classes_first_date": "First day",
        "classes_ends_note": (
            "It ends on a date or after a number of sessions; leave both empty to keep it running."
        ),
        "classes_until": "Last day",
        "classes_count": "Number of sessions",
        "classes_publish": "Publish the classes",
        "classes_cancel_title": "Cancel recurring classes",
        "classes_cancel_explain": (
            "Every session of these classes that has not started ({sessions} upcoming) is cancelled, with its"
            " bookings ({seats} places taken), by the business; each customer is refunded all they paid and"
            " the waitlists close. Past sessions stay as they were. This cannot be undone."
        ),
        "classes_cancel_confirm": "Yes, cancel the classes and refund",
        "classes_keep": "No, keep the classes",
        "classes_cancelled_already": "These classes were cancelled already.",
        "classes_days_rule": "Tick at least one day.",
        "classes_time_rule": "Write the time as HH:MM, such as 18:00.",
        "classes_date_rule": "Pick a valid date.",
        "classes_until_rule": "The last day comes on or after the first day.",
        "classes_ends_rule": "Give the last day or the number of sessions, not both.",
        "classes_number_rule": "Write a whole number from 1 to {most}.",
        "classes_off_grid": (
            "Start on the business's time grid (every half hour, say), such as 18:00 or 18:30."
        ),
        "classes_outside_hours": "The business is closed at some of these times. Check the opening hours.",
        "classes_length_rule": "Choose one of this service's lengths.",
        "classes_room_rule": "Choose the room the class takes place in.",
        "classes_no_room": (
            "This service needs a room and none is active. Add one on the rooms and chairs page."
        ),
        "classes_no_occurrences": "No session falls on these days and dates.",
        "classes_busy": (
            "The instructor or the room is taken at some of these times. Pick another time or instructor."
        ),
        "classes_pick_rule": "Choose from the list.",
    },
}
