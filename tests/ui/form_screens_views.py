"""Hand-made apply views for the form, materials, review and payment screens, in both languages.

Pure data (no Kivy), so the probe that draws them and the test that checks the results share them.
"""

from __future__ import annotations

from kiosk.apply.view_models import (
    ApplyStep,
    ApplyView,
    ChoiceOption,
    Countdown,
    FieldView,
    FormView,
    Header,
    MaterialCaptureView,
    MaterialsView,
    Notice,
    PaymentView,
    ProgressStep,
    ReviewView,
    SummaryLine,
    Thumbnail,
)
from kiosk.config import Language

PHONE_KEY = "applicant.phone"
GENDER_KEY = "marriage.gender"
DATE_KEY = "marriage.wedding_date"
ELICENCE_CODE = "hukou"
CAPTURED_CODE = "marriage_cert"
PAYMENT_LINK = "https://hall.example.gov.cn/pay/ORD-2025-000123?sig=8f3a"

_STEPS = ("identify", "choose", "form", "materials", "review", "hand_in", "receipt")
_STEP_LABELS = {
    "zh-CN": ("身份", "选事项", "填表", "材料", "提交", "投递", "回执"),
    "en": ("Identify", "Choose", "Form", "Copies", "Submit", "Hand in", "Receipt"),
}


def t(language: Language, zh: str, en: str) -> str:
    return zh if language == "zh-CN" else en


def header(language: Language, step: str, title: str) -> Header:
    current = _STEPS.index(step)
    progress = tuple(
        ProgressStep(
            label,
            "done" if index < current else ("current" if index == current else "todo"),
        )
        for index, label in enumerate(_STEP_LABELS[language])
    )
    return Header(
        title=title,
        progress=progress,
        back_label=t(language, "返回", "Back"),
        cancel_label=t(language, "取消办理", "Cancel"),
        can_go_back=True,
        can_cancel=True,
        applicant=t(language, "张*明  4301**********1234", "Zhang *ming  4301**********1234"),
    )


def _apply_view(language: Language, step: ApplyStep, head: Header, body: object) -> ApplyView:
    return ApplyView(
        step=step,
        language=language,
        header=head,
        body=body,  # type: ignore[arg-type]
        voice=None,
        voice_serial=0,
        countdown=None,
        overlay=None,
    )


def form_view(language: Language) -> ApplyView:
    fields = (
        FieldView(
            key="applicant.name",
            label=t(language, "申请人姓名", "Applicant's name"),
            kind="text",
            keypad="none",
            value="张三明",
            display_value="张三明",
            required=True,
            prefilled=True,
            error="",
        ),
        FieldView(
            key="applicant.id_number",
            label=t(language, "身份证号码", "ID number"),
            kind="id_number",
            keypad="id_number",
            value="430121196208151234",
            display_value="430121 19620815 1234",
            required=True,
            prefilled=True,
            error="",
        ),
        FieldView(
            key=GENDER_KEY,
            label=t(language, "配偶性别", "Spouse's sex"),
            kind="choice",
            keypad="none",
            value="",
            display_value="",
            required=True,
            prefilled=False,
            error="",
            choices=(
                ChoiceOption("male", t(language, "男", "Male"), False),
                ChoiceOption("female", t(language, "女", "Female"), False),
            ),
        ),
        FieldView(
            key=DATE_KEY,
            label=t(language, "结婚登记日期", "Date of marriage"),
            kind="date",
            keypad="date",
            value="1988-05-20",
            display_value=t(language, "1988年5月20日", "20 May 1988"),
            required=False,
            prefilled=False,
            error="",
        ),
        FieldView(
            key=PHONE_KEY,
            label=t(language, "联系电话", "Mobile phone"),
            kind="phone",
            keypad="phone",
            value="1380013",
            display_value="138 0013",
            required=True,
            prefilled=False,
            error=t(
                language,
                "手机号码应为 11 位数字",
                "A mobile number has 11 digits",
            ),
            max_length=11,
        ),
    )
    body = FormView(
        title=t(language, "填写申请表", "Fill in the form"),
        intro=t(
            language,
            "带 * 的为必填项；证件上的信息已为您填好。点一下某一项即可修改。",
            "Fields marked * are required; what your card told us is filled in."
            " Tap a field to change it.",
        ),
        fields=fields,
        continue_label=t(language, "下一步", "Next"),
        can_continue=True,
        errors_left=1,
    )
    return _apply_view(
        language,
        ApplyStep.FORM,
        header(language, "form", t(language, "填写申请表", "Fill in the form")),
        body,
    )


def materials_view(language: Language, thumbnail_paths: tuple[str, str]) -> ApplyView:
    materials = (
        MaterialCaptureView(
            code=CAPTURED_CODE,
            name=t(language, "结婚证", "Marriage certificate"),
            status="captured",
            status_text=t(language, "已拍好 2 页", "2 pages taken"),
            pages_expected=2,
            pages_captured=2,
            thumbnails=(Thumbnail(1, thumbnail_paths[0]), Thumbnail(2, thumbnail_paths[1])),
            current=False,
        ),
        MaterialCaptureView(
            code="house_contract",
            name=t(language, "房屋租赁合同", "Tenancy agreement"),
            status="to_capture",
            status_text=t(language, "还需拍 1 页", "1 page to take"),
            pages_expected=1,
            pages_captured=0,
            thumbnails=(),
            current=True,
        ),
        MaterialCaptureView(
            code=ELICENCE_CODE,
            name=t(language, "居民户口簿", "Household register"),
            status="elicence_offered",
            status_text=t(language, "有电子证照可用", "E-licence on file"),
            pages_expected=1,
            pages_captured=0,
            thumbnails=(),
            current=False,
            use_elicence_label=t(language, "使用电子证照", "Use the e-licence"),
            capture_instead_label=t(language, "改为拍摄纸质件", "Photograph my paper"),
        ),
    )
    body = MaterialsView(
        materials=materials,
        instruction=t(
            language,
            "请把《房屋租赁合同》第 1 页平放在框内，放稳后会自动拍照。",
            "Lay page 1 of the tenancy agreement in the frame; it is taken when it lies still.",
        ),
        pages_still_expected=1,
        pages_still_expected_text=t(language, "还需拍摄 1 页", "1 page still to take"),
        camera_available=True,
        show_preview=True,
        capture_label=t(language, "立即拍照", "Take it now"),
        retake_label=t(language, "重拍", "Retake"),
        continue_label=t(language, "下一步", "Next"),
        can_capture=True,
        can_continue=False,
    )
    title = t(language, "拍摄材料", "Photograph your documents")
    return _apply_view(language, ApplyStep.MATERIALS, header(language, "materials", title), body)


def review_view(language: Language) -> ApplyView:
    lines = (
        SummaryLine(
            t(language, "办理事项", "Service"),
            t(
                language,
                "居民户口迁移（夫妻投靠）",
                "Household registration transfer (joining a spouse)",
            ),
        ),
        SummaryLine(t(language, "申请人", "Applicant"), t(language, "张*明", "Zhang *ming")),
        SummaryLine(t(language, "联系电话", "Mobile phone"), "138****8000"),
        SummaryLine(
            t(language, "拍摄的材料", "Photographed"),
            t(
                language,
                "结婚证（2 页）、房屋租赁合同（1 页）",
                "Marriage certificate (2 pages), tenancy agreement (1 page)",
            ),
        ),
        SummaryLine(
            t(language, "电子证照", "E-licences"), t(language, "居民户口簿", "Household register")
        ),
        SummaryLine(
            t(language, "投递的纸质原件", "Paper originals to hand in"),
            t(language, "迁移证明申请表（签字）", "Signed transfer application form"),
        ),
        SummaryLine(
            t(language, "承诺办结时限", "Promised within"),
            t(language, "5 个工作日", "5 working days"),
        ),
    )
    body = ReviewView(
        lines=lines,
        has_fee=True,
        fee_text=t(language, "工本费 ¥20.00", "Fee ¥20.00"),
        fee_basis=t(
            language,
            "收费依据：《湖南省行政事业性收费目录清单》居民户口簿工本费",
            "Charged under the Hunan list of administrative fees:"
            " household register production fee",
        ),
        pay_now_label=t(language, "现在扫码缴费", "Pay now by phone"),
        pay_at_pickup_label=t(language, "取件时再缴费", "Pay when I collect"),
        can_pay_at_pickup=True,
        payment_choice="pay_now",
        submit_label=t(language, "确认提交", "Submit"),
        can_submit=True,
    )
    title = t(language, "核对并提交", "Check and submit")
    return _apply_view(language, ApplyStep.REVIEW, header(language, "review", title), body)


def payment_view(language: Language) -> ApplyView:
    body = PaymentView(
        amount_text="¥20.00",
        status="showing_qr",
        qr_payload=PAYMENT_LINK,
        instruction=t(
            language,
            "请用手机扫码缴费，缴费成功后将自动进入下一步。",
            "Scan the code with your phone to pay; we go on by ourselves once it is paid.",
        ),
        pay_at_pickup_label=t(language, "取件时再缴费", "Pay when I collect"),
        can_pay_at_pickup=True,
        continue_label=t(language, "下一步", "Next"),
        can_continue=False,
        countdown=Countdown(
            seconds_left=45,
            text=t(language, "45 秒后继续，可稍后缴费", "In 45 s we will go on; you can pay later"),
            extend_label=t(language, "我需要更多时间", "I need more time"),
        ),
        notice=Notice(
            t(language, "本事项需缴纳工本费。", "This service has a production fee."), "info"
        ),
    )
    title = t(language, "缴费", "Pay the fee")
    return _apply_view(language, ApplyStep.PAYMENT, header(language, "review", title), body)
