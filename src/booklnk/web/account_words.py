"""A customer's account in the web app (signing up by phone, among others): its words,
Arabic first; `words.WORDS` merges them."""

from __future__ import annotations

ACCOUNT_WORDS: dict[str, dict[str, str]] = {
    "ar": {
        "sign_up_by_phone": "برقم الموبايل",
        "sign_up_phone_lead": "نرسل رمزًا إلى موبايلك عبر واتساب أو رسالة نصية، ثم تكتب اسمك."
        " لا تحتاج إلى بريد إلكتروني ولا كلمة مرور.",
        "sign_up_by_email": "أو بالبريد الإلكتروني",
        "sign_up_email_lead": "نرسل رمزًا إلى بريدك الإلكتروني، ثم تختار كلمة مرور.",
        "mobile_number": "رقم الموبايل",
        "phone_code_on_its_way": "الرمز في طريقه إلى",
        "phone_name_note": "إن كان لك حساب بهذا الرقم، يدخلك الرمز إليه ويبقى اسمك كما هو.",
        "continue": "متابعة",
        "no_account_for_number": "لم يصلك رمز، أو ليس لهذا الرقم حساب بعد؟",
        "sign_up_with_number": "أنشئ حسابًا بهذا الرقم",
    },
    "en": {
        "sign_up_by_phone": "With your mobile number",
        "sign_up_phone_lead": "We send a code to your mobile by WhatsApp or SMS, then you write your name."
        " No e-mail or password needed.",
        "sign_up_by_email": "Or with your e-mail",
        "sign_up_email_lead": "We send a code to your e-mail, then you choose a password.",
        "mobile_number": "Mobile number",
        "phone_code_on_its_way": "A code is on its way to",
        "phone_name_note": "If this number already has an account, the code signs you in to it and its"
        " name stays as it is.",
        "continue": "Continue",
        "no_account_for_number": "No code came, or no account with this number yet?",
        "sign_up_with_number": "Sign up with this number",
    },
}
