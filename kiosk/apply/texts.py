"""The apply journey's words and spoken prompts, in Mandarin and English.

Kept beside the flow rather than in kiosk/i18n.py so the journey's many sentences can be reviewed
in one place; `tr` looks here first and then in the terminal's shared catalogue, and raises on a
gap exactly like `kiosk.i18n.translate` (a test checks every key has both languages). Keys under
`apply.voice.` are the spoken prompts: short, one instruction each, pre-rendered with espeak-ng
from these same texts so what is said and what is shown never differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kiosk.config import Language
from kiosk.i18n import look_up, translate

APPLY_MESSAGES: Final[Mapping[str, Mapping[Language, str]]] = {
    # ---- shared buttons and progress ----
    "apply.button.back": {"zh-CN": "上一步", "en": "Back"},
    "apply.button.cancel": {"zh-CN": "取消办理", "en": "Cancel"},
    "apply.button.continue": {"zh-CN": "下一步", "en": "Continue"},
    "apply.button.done": {"zh-CN": "完成", "en": "Done"},
    "apply.button.more_time": {"zh-CN": "我还需要时间", "en": "I need more time"},
    "apply.progress.identify": {"zh-CN": "刷证", "en": "Card"},
    "apply.progress.choose": {"zh-CN": "选事项", "en": "Choose"},
    "apply.progress.form": {"zh-CN": "填表", "en": "Form"},
    "apply.progress.materials": {"zh-CN": "材料", "en": "Copies"},
    "apply.progress.review": {"zh-CN": "提交", "en": "Submit"},
    "apply.progress.hand_in": {"zh-CN": "投递", "en": "Hand in"},
    "apply.progress.receipt": {"zh-CN": "回执", "en": "Receipt"},
    "apply.title.identify": {"zh-CN": "请刷身份证或社保卡", "en": "Place your card"},
    "apply.title.choose": {"zh-CN": "选择办理事项", "en": "Choose a service"},
    "apply.title.guide": {"zh-CN": "办事指南", "en": "Service guide"},
    "apply.title.form": {"zh-CN": "填写申请表", "en": "Fill in the form"},
    "apply.title.materials": {"zh-CN": "拍摄材料", "en": "Photograph your documents"},
    "apply.title.review": {"zh-CN": "核对并提交", "en": "Check and submit"},
    "apply.title.payment": {"zh-CN": "缴费", "en": "Pay the fee"},
    "apply.title.hand_in": {"zh-CN": "投递纸质材料", "en": "Hand in your papers"},
    "apply.title.receipt": {"zh-CN": "您的回执", "en": "Your receipt"},
    "apply.title.finish": {"zh-CN": "办理完成", "en": "All done"},
    "apply.countdown.card_back": {
        "zh-CN": "{seconds} 秒后将取消本次办理",
        "en": "This application will be cancelled in {seconds} s",
    },
    "apply.countdown.payment": {
        "zh-CN": "{seconds} 秒后将先完成提交，费用可稍后缴纳",
        "en": "In {seconds} s we will go on; you can pay later",
    },
    "apply.countdown.receipt": {
        "zh-CN": "{seconds} 秒后自动结束",
        "en": "Finishing in {seconds} s",
    },
    "apply.countdown.finish": {
        "zh-CN": "{seconds} 秒后返回首页",
        "en": "Back to the start in {seconds} s",
    },
    "apply.card_back.overlay": {
        "zh-CN": "请把证件放回读卡区，继续办理。",
        "en": "Please put your card back on the reader to carry on.",
    },
    "apply.days": {"zh-CN": "{days} 个工作日", "en": "{days} working days"},
    "apply.fee.free": {"zh-CN": "免费", "en": "Free"},
    "apply.fee.paid": {"zh-CN": "已缴 {amount}", "en": "Paid {amount}"},
    "apply.fee.at_pickup": {"zh-CN": "取件时缴纳 {amount}", "en": "{amount}, pay at pickup"},
    "apply.fee.unpaid": {
        "zh-CN": "待缴 {amount}（可到政务服务中心缴纳）",
        "en": "{amount} due (pay at the service centre)",
    },
    # ---- identify ----
    "apply.identify.instruction.start": {
        "zh-CN": "请将第二代身份证或社保卡平放在下方读卡区，听到提示音后即可。",
        "en": "Lay your ID card or social-security card flat on the reader below until you hear"
        " the beep.",
    },
    "apply.identify.instruction.apply": {
        "zh-CN": "申请前需要确认您的身份：请将身份证或社保卡平放在读卡区。",
        "en": "To apply we need to know who you are: lay your ID card or social-security card on"
        " the reader.",
    },
    "apply.identify.instruction.agent": {
        "zh-CN": "代办：请将办事群众本人的身份证或社保卡平放在读卡区，听到提示音后即可。",
        "en": "Applying for a citizen: lay the citizen's own ID card or social-security card on"
        " the reader until you hear the beep.",
    },
    "apply.identify.browse": {
        "zh-CN": "不刷卡，先看看办事指南",
        "en": "Look at guides without a card",
    },
    "apply.identify.removed_early": {
        "zh-CN": "证件拿开得太快，没有读到。请重新放好，听到提示音后再拿开。",
        "en": "The card was lifted too soon to be read. Put it back and wait for the beep.",
    },
    "apply.identify.unreadable": {
        "zh-CN": "读不出这张证件。请平放在读卡区不要移动；如果多次失败，证件可能已损坏，"
        "请到政务服务中心窗口办理。",
        "en": "This card could not be read. Lay it flat and keep it still; if it keeps failing"
        " the card may be damaged — please go to a service centre counter.",
    },
    "apply.identify.reader_offline": {
        "zh-CN": "读卡器暂时无法使用。您可以先查看办事指南；"
        "需要申请请拨打热线或到政务服务中心办理。",
        "en": "The card reader is not working right now. You can still read the guides; to apply,"
        " call the hotline or visit the service centre.",
    },
    # ---- choose ----
    "apply.choose.tab.most_used": {"zh-CN": "常办事项", "en": "Most used"},
    "apply.choose.tab.departments": {"zh-CN": "按部门", "en": "By department"},
    "apply.choose.tab.topics": {"zh-CN": "一件事", "en": "Life events"},
    "apply.choose.tab.search": {"zh-CN": "搜索", "en": "Search"},
    "apply.choose.search": {"zh-CN": "搜索事项", "en": "Search services"},
    "apply.choose.results": {"zh-CN": "“{query}”的搜索结果", "en": "Results for “{query}”"},
    "apply.choose.no_results": {
        "zh-CN": "没有找到相关事项，请换个词试试，或按部门查找。",
        "en": "Nothing found. Try another word, or look by department.",
    },
    "apply.choose.search_hint": {
        "zh-CN": "输入拼音首字母（如 HK）或关键词",
        "en": "Type pinyin initials (e.g. HK) or a word",
    },
    "apply.choose.empty": {"zh-CN": "这里暂时没有事项。", "en": "Nothing here yet."},
    "apply.choose.item_count": {"zh-CN": "{count} 个事项", "en": "{count} services"},
    "apply.choose.use_card": {"zh-CN": "刷卡办理", "en": "Use my card"},
    # ---- guide ----
    "apply.guide.materials": {"zh-CN": "所需材料", "en": "What you need"},
    "apply.guide.legal_basis": {"zh-CN": "办理依据", "en": "Legal basis"},
    "apply.guide.fee": {"zh-CN": "收费", "en": "Fee"},
    "apply.guide.days": {"zh-CN": "承诺时限", "en": "Promised time"},
    "apply.guide.steps": {"zh-CN": "办理流程", "en": "Steps"},
    "apply.guide.print": {"zh-CN": "打印指南", "en": "Print this guide"},
    "apply.guide.printing": {"zh-CN": "正在打印，请稍候……", "en": "Printing…"},
    "apply.guide.printed": {
        "zh-CN": "已打印，请在出纸口取走。",
        "en": "Printed — please take it from the slot.",
    },
    "apply.guide.paper_out": {
        "zh-CN": "打印机缺纸，暂时无法打印。您可以用手机拍下本页。",
        "en": "The printer is out of paper. You can take a photo of this page instead.",
    },
    "apply.guide.print_failed": {
        "zh-CN": "打印机暂时无法使用。您可以用手机拍下本页。",
        "en": "The printer is not working. You can take a photo of this page instead.",
    },
    "apply.guide.start": {"zh-CN": "立即申请", "en": "Apply now"},
    "apply.guide.start_with_card": {"zh-CN": "刷卡申请", "en": "Use my card to apply"},
    "apply.material.form.paper_original": {
        "zh-CN": "纸质原件，投入柜格",
        "en": "Paper original, into the locker",
    },
    "apply.material.form.e_copy": {"zh-CN": "现场拍照", "en": "Photographed here"},
    "apply.material.form.e_licence": {"zh-CN": "电子证照", "en": "E-licence"},
    "apply.material.note.from_card": {
        "zh-CN": "已从您的身份证读取，无需拍照",
        "en": "Read from your ID card — no photo needed",
    },
    "apply.material.note.elicence_on_file": {
        "zh-CN": "已有电子证照，可直接调用",
        "en": "On file as an e-licence — no paper needed",
    },
    # ---- form ----
    "apply.form.phone_on_file.registry": {
        "zh-CN": "已填入您在政务服务平台登记的手机号，请核对；不对请修改。",
        "en": "Filled in with the mobile number on file with the service platform. Please "
        "check it, and change it if it is wrong.",
    },
    "apply.form.phone_on_file.earlier_submission": {
        "zh-CN": "已填入您上次办事时留的手机号，请核对；不对请修改。",
        "en": "Filled in with the mobile number you gave last time. Please check it, and change "
        "it if it is wrong.",
    },
    "apply.form.intro": {
        "zh-CN": "带 * 的为必填项；身份证上的信息已为您填好。",
        "en": "Fields marked * are required; what your card says is already filled in.",
    },
    # ---- materials ----
    "apply.materials.instruction": {
        "zh-CN": "请把“{name}”第 {page} 页（共 {pages} 页）平放在拍摄区，放稳后自动拍照。",
        "en": "Lay page {page} of {pages} of “{name}” in the frame; it is taken when it lies"
        " still.",
    },
    "apply.materials.confirm_elicences": {
        "zh-CN": "您有可调用的电子证照，请确认是否使用。",
        "en": "Some of your documents are on file as e-licences — please confirm using them.",
    },
    "apply.materials.all_done": {
        "zh-CN": "材料已齐全，请点“下一步”。",
        "en": "All documents are ready — press Continue.",
    },
    "apply.materials.camera_down": {
        "zh-CN": "摄像头暂时无法使用，这些材料请随纸质原件一起投入柜格。",
        "en": "The camera is not working; put these papers into the locker with the originals.",
    },
    "apply.materials.left": {"zh-CN": "还需拍摄 {left} 页", "en": "{left} pages still to take"},
    "apply.materials.capture": {"zh-CN": "立即拍照", "en": "Take it now"},
    "apply.materials.retake": {"zh-CN": "重拍", "en": "Retake"},
    "apply.materials.use_elicence": {"zh-CN": "使用电子证照", "en": "Use the e-licence"},
    "apply.materials.capture_instead": {
        "zh-CN": "改为拍照",
        "en": "Photograph my paper instead",
    },
    "apply.materials.status.to_capture": {
        "zh-CN": "已拍 {taken}/{pages} 页",
        "en": "{taken} of {pages} pages taken",
    },
    "apply.materials.status.captured": {"zh-CN": "已拍好 {pages} 页", "en": "{pages} pages taken"},
    "apply.materials.status.elicence_offered": {
        "zh-CN": "有电子证照，是否使用？",
        "en": "E-licence on file — use it?",
    },
    "apply.materials.status.elicence_used": {
        "zh-CN": "将调用电子证照",
        "en": "The e-licence will be used",
    },
    # ---- review ----
    "apply.review.paper": {"zh-CN": "投递的纸质原件", "en": "Paper originals to hand in"},
    "apply.review.pay_now": {"zh-CN": "现在扫码缴费", "en": "Pay now by phone"},
    "apply.review.pay_at_pickup": {"zh-CN": "取件时再缴费", "en": "Pay when I collect"},
    "apply.review.submit": {"zh-CN": "确认提交", "en": "Submit"},
    "apply.review.submitting": {"zh-CN": "正在提交……", "en": "Submitting…"},
    "apply.review.commit_failed": {
        "zh-CN": "本机暂时无法保存您的申请，请再点一次“确认提交”；仍不成功请拨打热线。",
        "en": "The terminal could not save your application. Press Submit again; if it still"
        " fails, please call the hotline.",
    },
    # ---- payment ----
    "apply.payment.waiting_order": {
        "zh-CN": "正在获取缴费二维码……",
        "en": "Getting the payment code…",
    },
    "apply.payment.showing_qr": {
        "zh-CN": "请用手机扫描二维码缴费，缴费成功后自动进入下一步。",
        "en": "Scan the code with your phone to pay; we go on by ourselves once it is paid.",
    },
    "apply.payment.paid": {"zh-CN": "缴费成功。", "en": "Paid — thank you."},
    "apply.payment.unavailable": {
        "zh-CN": "暂时无法在线缴费。您的申请已提交，费用可在取件时或到政务服务中心缴纳。",
        "en": "Online payment is not available right now. Your application is submitted; you can"
        " pay when you collect or at the service centre.",
    },
    # ---- hand in ----
    "apply.hand_in.position": {
        "zh-CN": "{column} 列 · 第 {row} 排 · {side}",
        "en": "Column {column} · row {row} · {side}",
    },
    "apply.hand_in.left": {"zh-CN": "左侧", "en": "left"},
    "apply.hand_in.right": {"zh-CN": "右侧", "en": "right"},
    "apply.hand_in.phase.reserving": {
        "zh-CN": "正在为您分配柜格……",
        "en": "Finding a compartment for you…",
    },
    "apply.hand_in.phase.opening": {"zh-CN": "正在开门……", "en": "Opening the door…"},
    "apply.hand_in.phase.door_open": {
        "zh-CN": "{number}号柜门已打开。请放入纸质材料，然后关好柜门。",
        "en": "Door {number} is open. Put your papers in, then close the door.",
    },
    "apply.hand_in.phase.checking": {"zh-CN": "正在确认……", "en": "Checking…"},
    "apply.hand_in.phase.no_item_seen": {
        "zh-CN": "柜门已关，但没有检测到材料。您放进去了吗？",
        "en": "The door is closed but we did not see any papers inside. Did you put them in?",
    },
    "apply.hand_in.phase.taking_back": {
        "zh-CN": "请取回{number}号柜中的材料，然后关好柜门。",
        "en": "Take your papers out of compartment {number}, then close the door.",
    },
    "apply.hand_in.phase.deposited": {
        "zh-CN": "材料已投递成功。",
        "en": "Your papers are handed in.",
    },
    "apply.hand_in.phase.no_compartment": {
        "zh-CN": "柜格暂时已满。您的申请已经提交，请在承诺时限内把纸质材料送到政务服务中心。",
        "en": "The locker is full right now. Your application is submitted; please bring the"
        " papers to the service centre within the promised time.",
    },
    "apply.hand_in.jammed": {
        "zh-CN": "{number}号柜门打不开，已为您换一个柜格。",
        "en": "Door {number} would not open; we are giving you another compartment.",
    },
    "apply.hand_in.all_stuck": {
        "zh-CN": "柜门暂时打不开，工作人员会尽快处理。",
        "en": "The doors will not open right now; staff have been told.",
    },
    "apply.hand_in.phase.unconfirmed": {
        "zh-CN": "未能确认您的材料已放入{number}号柜，请联系工作人员。",
        "en": "We could not confirm your papers are in compartment {number}. Please ask staff.",
    },
    "apply.hand_in.unconfirmed": {
        "zh-CN": "系统未能登记{number}号柜中的材料，已通知工作人员核实。您的申请已提交；"
        "请联系现场工作人员或拨打{hotline}，不要再次投递。",
        "en": "The terminal could not record the papers in compartment {number}, and staff have "
        "been told to check it. Your application is submitted; please ask staff here or call "
        "{hotline}. Do not hand the papers in again.",
    },
    "apply.hand_in.confirm": {"zh-CN": "已经放进去了", "en": "I have put them in"},
    "apply.hand_in.reopen": {"zh-CN": "再开一次门", "en": "Open the door again"},
    "apply.hand_in.cancel": {"zh-CN": "取回材料", "en": "Take my papers back"},
    # ---- receipt ----
    "apply.receipt.tracking": {"zh-CN": "受理编号", "en": "Tracking number"},
    "apply.receipt.applicant": {"zh-CN": "申请人", "en": "Applicant"},
    "apply.receipt.agent": {"zh-CN": "代办", "en": "Agent"},
    "apply.agent.submitted_by": {
        "zh-CN": "代办员 {name} ({card_id}) 代为提交",
        "en": "Submitted by village agent {name} ({card_id})",
    },
    "apply.receipt.items": {"zh-CN": "办理事项", "en": "Services"},
    "apply.receipt.materials": {"zh-CN": "纸质材料", "en": "Paper originals"},
    "apply.receipt.in_compartment": {
        "zh-CN": "{materials} 份，已存入 {label} 号柜",
        "en": "{materials}, in compartment {label}",
    },
    "apply.receipt.electronic": {"zh-CN": "电子材料", "en": "Electronic documents"},
    "apply.receipt.electronic_value": {
        "zh-CN": "拍摄 {ecopies} 页，电子证照 {elicences} 份",
        "en": "{ecopies} pages photographed, {elicences} e-licences",
    },
    "apply.receipt.promised": {"zh-CN": "承诺办结日期", "en": "Promised by"},
    "apply.receipt.fee": {"zh-CN": "费用", "en": "Fee"},
    "apply.receipt.hotline": {"zh-CN": "咨询热线", "en": "Hotline"},
    "apply.receipt.note": {"zh-CN": "请注意", "en": "Please note"},
    "apply.receipt.bring_papers": {
        "zh-CN": "请将以下纸质原件送到政务服务中心：{materials}。",
        "en": "Please bring these paper originals to the service centre: {materials}.",
    },
    "apply.receipt.ask_staff": {
        "zh-CN": "未能确认纸质材料已放入{label}号柜，请联系工作人员核实（{hotline}）。",
        "en": "The papers could not be confirmed as handed in to compartment {label}; please "
        "ask staff to check ({hotline}).",
    },
    "apply.receipt.sms": {
        "zh-CN": "【政务自助】您的申请已受理，编号{tracking_no}，事项：{items}，"
        "承诺{promised}前办结。咨询{hotline}。",
        "en": "Your application {tracking_no} ({items}) is received and promised by {promised}."
        " Questions: {hotline}.",
    },
    "apply.receipt.sms_sent": {
        "zh-CN": "回执已通过短信发送到 {phone}。",
        "en": "This receipt was also sent by SMS to {phone}.",
    },
    "apply.receipt.print_again": {"zh-CN": "重新打印", "en": "Print again"},
    "apply.receipt.status.printing": {"zh-CN": "正在打印回执……", "en": "Printing your receipt…"},
    "apply.receipt.status.printed": {
        "zh-CN": "请取走回执，妥善保管。",
        "en": "Please take your receipt and keep it.",
    },
    "apply.receipt.status.on_screen": {
        "zh-CN": "打印机缺纸，回执显示在屏幕上并已短信发送给您，可用手机拍下。",
        "en": "The printer is out of paper: here is your receipt, also sent to you by SMS. You"
        " may take a photo of it.",
    },
    "apply.receipt.status.print_failed": {
        "zh-CN": "打印机暂时无法使用，回执显示在屏幕上并已短信发送给您。",
        "en": "The printer is not working: here is your receipt, also sent to you by SMS.",
    },
    # ---- finish ----
    "apply.finish.thank_you": {
        "zh-CN": "感谢使用！您的申请已提交。",
        "en": "Thank you! Your application is submitted.",
    },
    "apply.finish.next_steps": {
        "zh-CN": "办结后我们会发送短信取件码，届时可在本终端随时领取。",
        "en": "When it is ready we will text you a pickup code; collect it here at any hour.",
    },
    "apply.finish.take_card": {
        "zh-CN": "请取走您的证件。",
        "en": "Please take your card with you.",
    },
    # ---- spoken prompts ----
    "apply.voice.identify": {
        "zh-CN": "请将身份证或社保卡放在读卡区。",
        "en": "Please place your ID card or social-security card on the reader.",
    },
    "apply.voice.reader_offline": {
        "zh-CN": "读卡器暂时无法使用，您可以先查看办事指南。",
        "en": "The card reader is not working. You can still read the guides.",
    },
    "apply.voice.card_removed_early": {
        "zh-CN": "证件拿开得太快了，请重新放好，听到提示音再拿开。",
        "en": "The card was lifted too soon. Please put it back and wait for the beep.",
    },
    "apply.voice.card_unreadable": {
        "zh-CN": "读不出这张证件，请平放不要移动。",
        "en": "The card could not be read. Please lay it flat and keep it still.",
    },
    "apply.voice.card_back": {
        "zh-CN": "请把证件放回读卡区，否则将取消本次办理。",
        "en": "Please put your card back on the reader, or this application will be cancelled.",
    },
    "apply.voice.card_back_thanks": {"zh-CN": "好的，请继续。", "en": "Thank you, please go on."},
    "apply.voice.choose": {
        "zh-CN": "请选择要办理的事项，也可以搜索。",
        "en": "Please choose a service, or search for one.",
    },
    "apply.voice.guide": {
        "zh-CN": "这是办事指南，请看看需要准备哪些材料。",
        "en": "Here is the guide. Please check which documents you need.",
    },
    "apply.voice.form": {
        "zh-CN": "请填写申请表，已为您填好证件上的信息。",
        "en": "Please fill in the form. What your card says is already filled in.",
    },
    "apply.voice.form_errors": {
        "zh-CN": "还有内容需要填写或修改，请看标红的地方。",
        "en": "Some fields still need your attention; they are marked in red.",
    },
    "apply.voice.materials": {
        "zh-CN": "请把材料平放在拍摄区，放稳后会自动拍照。",
        "en": "Lay each document in the frame; it is photographed when it lies still.",
    },
    "apply.voice.page_taken": {
        "zh-CN": "拍好了，还需要 {left} 页。",
        "en": "Got it. {left} more pages to go.",
    },
    "apply.voice.pages_done": {
        "zh-CN": "材料拍摄完成，请点下一步。",
        "en": "All pages are taken. Please press Continue.",
    },
    "apply.voice.pages_missing": {
        "zh-CN": "还有 {left} 页没有拍。",
        "en": "{left} pages are still missing.",
    },
    "apply.voice.review": {
        "zh-CN": "请核对信息，确认无误后点确认提交。",
        "en": "Please check everything, then press Submit.",
    },
    "apply.voice.commit_failed": {
        "zh-CN": "提交没有成功，请再试一次。",
        "en": "Submitting did not work. Please try again.",
    },
    "apply.voice.payment": {
        "zh-CN": "正在获取缴费二维码，请稍候。",
        "en": "Getting your payment code, one moment.",
    },
    "apply.voice.payment_qr": {
        "zh-CN": "请用手机扫描屏幕上的二维码缴费。",
        "en": "Please scan the code on the screen with your phone to pay.",
    },
    "apply.voice.paid": {"zh-CN": "缴费成功。", "en": "Payment received."},
    "apply.voice.payment_unavailable": {
        "zh-CN": "暂时无法在线缴费，可以在取件时缴纳。",
        "en": "Online payment is not available now. You can pay when you collect.",
    },
    "apply.voice.hand_in": {
        "zh-CN": "正在为您打开柜门。",
        "en": "Opening a compartment for you.",
    },
    "apply.voice.door_open": {
        "zh-CN": "{number}号柜门已打开，请放入纸质材料并关好柜门。",
        "en": "Door {number} is open. Put your papers in and close the door.",
    },
    "apply.voice.close_door": {
        "zh-CN": "请关好{number}号柜门。",
        "en": "Please close door {number}.",
    },
    "apply.voice.staff_alerted": {
        "zh-CN": "{number}号柜门还开着，已通知工作人员。请关好柜门。",
        "en": "Door {number} is still open and staff have been told. Please close it.",
    },
    "apply.voice.no_item_seen": {
        "zh-CN": "没有检测到材料，请确认是否已放入。",
        "en": "We did not see any papers inside. Did you put them in?",
    },
    "apply.voice.take_back": {
        "zh-CN": "请从{number}号柜取回材料，并关好柜门。",
        "en": "Please take your papers from compartment {number} and close the door.",
    },
    "apply.voice.jammed": {
        "zh-CN": "这个柜门打不开，正在为您换一个。",
        "en": "That door would not open. Finding you another one.",
    },
    "apply.voice.no_compartment": {
        "zh-CN": "柜格已满，您的申请已提交，请把纸质材料送到政务服务中心。",
        "en": "The locker is full. Your application is submitted; please bring the papers to the"
        " service centre.",
    },
    "apply.voice.receipt": {
        "zh-CN": "正在打印回执。",
        "en": "Printing your receipt.",
    },
    "apply.voice.receipt_bring_papers": {
        "zh-CN": "正在打印回执，请按回执把纸质材料送到政务服务中心。",
        "en": "Printing your receipt. Please bring your papers to the service centre as it says.",
    },
    "apply.voice.receipt_ask_staff": {
        "zh-CN": "正在打印回执。材料未能确认投递，请联系工作人员。",
        "en": "Printing your receipt. Your papers could not be confirmed; please ask staff.",
    },
    "apply.voice.deposit_unconfirmed": {
        "zh-CN": "未能确认{number}号柜中的材料，已通知工作人员。请联系工作人员。",
        "en": "We could not confirm the papers in compartment {number}. Staff have been told. "
        "Please ask staff.",
    },
    "apply.voice.receipt_printed": {
        "zh-CN": "请取走回执。",
        "en": "Please take your receipt.",
    },
    "apply.voice.receipt_on_screen": {
        "zh-CN": "打印机暂时无法打印，回执已显示在屏幕上并发送短信给您。",
        "en": "The receipt could not be printed. It is on the screen and sent to you by SMS.",
    },
    "apply.voice.finish": {
        "zh-CN": "感谢使用，再见。",
        "en": "Thank you, goodbye.",
    },
    "apply.voice.finish_take_card": {
        "zh-CN": "感谢使用，请取走您的证件。",
        "en": "Thank you. Please take your card with you.",
    },
}


def tr(key: str, language: Language, **args: object) -> str:
    """`kiosk.i18n.translate` over the apply journey's messages first, then the shared ones."""
    return look_up(APPLY_MESSAGES, "kiosk/apply/texts.py", key, language, args, fallback=translate)


def voice_keys() -> list[str]:
    """The prompts the runtime pre-renders with espeak-ng (one clip per key and language)."""
    return sorted(key for key in APPLY_MESSAGES if key.startswith("apply.voice."))
