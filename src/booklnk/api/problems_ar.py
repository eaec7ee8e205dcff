"""Problems in Arabic: a title for each HTTP status and a detail for each problem code, for
callers whose `Accept-Language` prefers Arabic. The English detail a domain writes can name
specifics (a slug, a limit); in Arabic the detail says what the code means, and the
specifics stay in the problem's own members (`errors`, `limit`, `earliest`, …). A test keeps
this table equal to `problem_codes.CODES`."""

from __future__ import annotations

TITLES = {
    400: "طلب غير صحيح",
    401: "غير مصرّح",
    403: "غير مسموح",
    404: "غير موجود",
    405: "الطريقة غير مسموحة",
    409: "تعارض",
    410: "انتهت صلاحيته",
    412: "الشرط المسبق لم يتحقق",
    413: "المحتوى كبير جدًا",
    415: "نوع المحتوى غير مدعوم",
    422: "بيانات غير صالحة",
    429: "طلبات كثيرة جدًا",
    500: "خطأ داخلي في الخادم",
    503: "الخدمة غير متاحة",
}

DETAILS = {
    # Requests
    "validation_failed": "حقل لا يطابق قاعدة: انظر `errors` لاسم كل حقل والقاعدة.",
    "invalid_value": "قيمة لا يمكن حفظها (فيها حرف NUL).",
    "body_too_large": "محتوى الطلب أكبر مما يقبله هذا المسار (`limit` بالبايت).",
    "too_many_requests": "طلبات كثيرة من هذا العنوان: انتظر `Retry-After` ثانية.",
    "database_unavailable": "قاعدة البيانات غير متاحة الآن: أعد المحاولة بعد `Retry-After` ثانية.",
    "internal_error": "خطأ من جهتنا: اذكر `request_id` عند الإبلاغ عنه.",
    "not_found": "لا شيء في هذا المسار.",
    "unauthorized": "سجّل الدخول: هذا المسار يحتاج رمز دخول.",
    # Accounts and businesses
    "invalid_token": "رمز الدخول غير صالح أو منتهٍ، أو حُذف حسابه.",
    "invalid_credentials": "البريد الإلكتروني وكلمة المرور لا يطابقان حسابًا.",
    "login_throttled": "محاولات دخول فاشلة كثيرة لهذا الحساب من هنا: انتظر `Retry-After` ثانية.",
    "insufficient_role": "دورك في هذا النشاط لا يسمح بهذا.",
    "invalid_code": "الرمز غير صحيح أو منتهٍ أو مستخدم أو جُرّب كثيرًا: اطلب رمزًا جديدًا.",
    "wrong_password": "كلمة المرور الحالية غير صحيحة.",
    "business_not_found": "لا يوجد هذا النشاط (أو ليس لك أن تراه).",
    "slug_taken": "نشاط آخر يستخدم هذا المعرّف.",
    "member_not_found": "ليس عضوًا في هذا النشاط.",
    "last_owner": "يجب أن يبقى للنشاط مالك واحد على الأقل.",
    "invitation_not_found": "لا توجد دعوة معلّقة كهذه.",
    "invitation_unusable": "الدعوة مستخدمة أو منتهية أو مرسلة إلى بريد آخر.",
    "business_type_not_found": "لا يوجد نوع نشاط بهذا المفتاح.",
    "business_type_exists": "يوجد نوع نشاط بهذا المفتاح.",
    "invalid_metrics_token": "`/metrics` يحتاج رمز المقاييس.",
    # Catalog and schedules
    "service_not_found": "لا توجد هذه الخدمة في هذا النشاط.",
    "staff_not_found": "لا يوجد هذا الموظف في هذا النشاط.",
    "staff_user_taken": "هذا الحساب موظف في النشاط بالفعل.",
    "resource_not_found": "لا يوجد هذا المورد (غرفة أو كرسي) في هذا النشاط.",
    "date_override_exists": "لهذا التاريخ استثناء بالفعل.",
    "date_override_not_found": "لا استثناء لهذا التاريخ.",
    "time_off_not_found": "لا توجد هذه الإجازة.",
    # Bookings
    "booking_not_found": "لا يوجد هذا الحجز (أو ليس لك أن تراه).",
    "invalid_transition": "حالة الحجز (`booking_status`) لا تسمح بهذا الإجراء (`action`).",
    "version_mismatch": "`If-Match` يشير إلى نسخة أقدم: اقرأ الحجز من جديد ثم أعد المحاولة.",
    "concurrent_update": "غيّره شخص آخر في اللحظة نفسها: اقرأ من جديد ثم أعد المحاولة.",
    "cancellation_window_passed": "انتهت مهلة الإلغاء المجاني في `free_until`؛ وسياسة النشاط تحدد الباقي.",
    "payment_required": "يجب دفع الحجز قبل هذا.",
    "too_early": "ليس بعد: مسموح من `earliest` (`rule` يذكر قاعدة النشاط).",
    "too_late": "لم يعد مسموحًا: كان مسموحًا حتى `latest` (`rule` يذكر قاعدة النشاط).",
    "too_many_holds": "لدى العميل `limit` حجوزات غير مدفوعة بالفعل.",
    "daily_limit_reached": "لدى العميل `limit` حجوزات في ذلك اليوم بالفعل.",
    "nothing_to_undo": "لا يمكن التراجع عن آخر خطوة في هذا الحجز.",
    "idempotency_key_in_flight": "طلب بمفتاح `Idempotency-Key` نفسه ما زال قيد التنفيذ.",
    "calendar_feed_not_found": "لا توجد نشرة التقويم هذه (أو تغيّر رمزها).",
    # Classes
    "session_not_found": "لا توجد هذه الحصة.",
    "series_not_found": "لا توجد سلسلة الحصص هذه.",
    "session_full": "لا مقعد متاح: انضم إلى قائمة الانتظار (`waitlist`).",
    "session_closed": "أُلغيت الحصة أو بدأت.",
    "seats_available": "في الحصة مقعد متاح: احجزه بدل الانتظار.",
    "already_waiting": "العميل في قائمة الانتظار هذه بالفعل.",
    "waitlist_entry_not_found": "لا يوجد هذا الانتظار.",
    "resource_busy": "الغرفة (`resource_id`) مشغولة في `starts_at`.",
    "instructor_busy": "المدرّب (`staff_id`) مشغول في `starts_at`.",
    # Payments
    "booking_not_payable": "الحجز غير محجوز للدفع، أو مدفوع، أو انتهت مهلته.",
    "phone_required": "يطلب هذا النشاط رقم موبايل مؤكدًا قبل الحجز (/v1/me/phone).",
    "pay_link_not_found": "رابط الدفع هذا ليس من روابطنا.",
    "pay_link_expired": "انتهت صلاحية رابط الدفع مع انتهاء مهلة الحجز.",
    "nothing_to_refund": "لم يبقَ مبلغ مدفوع يُسترد.",
    "webhook_rejected": "غير موقّع أو توقيعه خاطئ: لم يُطبّق شيء.",
    "verify_token_rejected": "ليس رمز التحقق الخاص بهذا الـ webhook.",
    "redirect_rejected": "توقيع عنوان العودة غير مطابق.",
    # Outgoing webhooks
    "webhook_endpoint_not_found": "لا توجد نقطة استقبال الويب هوك هذه في هذا النشاط.",
    "webhook_message_not_found": "لا توجد هذه الرسالة لنقطة الاستقبال هذه.",
    "too_many_webhook_endpoints": "بلغ النشاط الحد الأقصى لنقاط استقبال الويب هوك (`limit`).",
    "webhook_endpoint_disabled": "نقطة الاستقبال معطّلة: فعّلها أولًا.",
    # Slot rules
    "invalid_duration": "المدة ليست من مدد الخدمة المتاحة.",
    "off_grid": "وقت البدء ليس على شبكة مواعيد النشاط.",
    "in_past": "وقت البدء في الماضي.",
    "inside_min_notice": "وقت البدء أقرب مما تسمح به أقل مهلة للحجز في النشاط.",
    "beyond_horizon": "وقت البدء أبعد مما يقبل النشاط الحجز فيه.",
    "outside_hours": "لا أحد ممن يقدمون هذه الخدمة يعمل في هذا الوقت.",
    "slot_unavailable": "هذا الموعد محجوز.",
}
