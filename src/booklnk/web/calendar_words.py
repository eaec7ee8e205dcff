"""The front desk's calendar: the day and the week, by staff member and by room, with breaks and time off:
their words, Arabic first; `words.WORDS` merges them."""

from __future__ import annotations

CALENDAR_WORDS: dict[str, dict[str, str]] = {
    "ar": {
        "cal_by_staff": "حسب الموظف",
        "cal_by_room": "حسب الغرفة",
        "cal_week": "الأسبوع",
        "cal_week_of": "أسبوع {day}",
        "cal_this_week": "هذا الأسبوع",
        "cal_previous_week": "الأسبوع السابق",
        "cal_next_week": "الأسبوع التالي",
        "cal_day": "اليوم",
        "cal_bookings": "الحجوزات: {count}",
        "cal_no_bookings": "لا حجوزات",
        "cal_busy": "محجوز",
        "cal_no_rooms": "لا غرف ولا كراسي بعد.",
        "cal_shade_time_off": "إجازة",
        "cal_shade_closed": "مغلق",
        "cal_shade_break": "استراحة",
        "cal_shade_off": "خارج المواعيد",
    },
    "en": {
        "cal_by_staff": "By staff",
        "cal_by_room": "By room",
        "cal_week": "The week",
        "cal_week_of": "Week of {day}",
        "cal_this_week": "This week",
        "cal_previous_week": "Previous week",
        "cal_next_week": "Next week",
        "cal_day": "Day",
        "cal_bookings": "Bookings: {count}",
        "cal_no_bookings": "No bookings",
        "cal_busy": "Booked",
        "cal_no_rooms": "No rooms or chairs yet.",
        "cal_shade_time_off": "Time off",
        "cal_shade_closed": "Closed",
        "cal_shade_break": "Break",
        "cal_shade_off": "Not working",
    },
}
