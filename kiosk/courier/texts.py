"""The courier screens' words, in Mandarin and English (a test checks both exist for each key).

Couriers are staff, but tired staff at 6 a.m.: one instruction per screen, the compartment label
in every sentence about a door, and refusals that say what to do next.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kiosk.config import Language
from kiosk.i18n import look_up

COURIER_MESSAGES: Final[Mapping[str, Mapping[Language, str]]] = {
    # ---- titles ----
    "courier.title.pin": {"zh-CN": "工作人员登录", "en": "Staff sign-in"},
    "courier.title.refused": {"zh-CN": "无法登录", "en": "Cannot sign in"},
    "courier.title.menu": {"zh-CN": "投递员菜单", "en": "Courier menu"},
    "courier.title.menu_agent": {"zh-CN": "村代办员菜单", "en": "Village agent menu"},
    "courier.title.collect": {"zh-CN": "取走申请材料", "en": "Collect materials"},
    "courier.title.load": {"zh-CN": "放入办理结果", "en": "Load results"},
    "courier.title.returns": {"zh-CN": "取回逾期结果", "en": "Take back overdue results"},
    # ---- buttons ----
    "courier.button.submit_pin": {"zh-CN": "确定", "en": "OK"},
    "courier.button.cancel": {"zh-CN": "取消", "en": "Cancel"},
    "courier.button.dismiss": {"zh-CN": "知道了", "en": "OK"},
    "courier.button.collect": {"zh-CN": "取走材料", "en": "Collect materials"},
    "courier.button.load": {"zh-CN": "放入结果", "en": "Load results"},
    "courier.button.returns": {"zh-CN": "取回逾期", "en": "Take back overdue"},
    "courier.button.apply": {"zh-CN": "为群众代办申请", "en": "Apply for a citizen"},
    "courier.button.sign_out": {"zh-CN": "退出登录", "en": "Sign out"},
    "courier.button.open_all": {"zh-CN": "打开我的全部格口", "en": "Open all mine"},
    "courier.button.check_door": {"zh-CN": "门已关好", "en": "Door is closed"},
    "courier.button.yes": {"zh-CN": "是", "en": "Yes"},
    "courier.button.no": {"zh-CN": "否", "en": "No"},
    "courier.button.reopen": {"zh-CN": "重新开门", "en": "Open the door again"},
    "courier.button.cancel_load": {"zh-CN": "不放了", "en": "Do not load it"},
    "courier.button.back": {"zh-CN": "返回菜单", "en": "Back to the menu"},
    "courier.button.still_here": {"zh-CN": "我还在", "en": "I am still here"},
    "courier.key.back": {"zh-CN": "← 删除", "en": "← Delete"},
    "courier.key.clear": {"zh-CN": "清空", "en": "Clear"},
    "courier.door.position": {
        "zh-CN": "{column}柜 从上往下第{row}层",
        "en": "Column {column}, row {row} from the top",
    },
    "courier.size.S": {"zh-CN": "小格口", "en": "Small"},
    "courier.size.M": {"zh-CN": "中格口", "en": "Medium"},
    "courier.size.L": {"zh-CN": "大格口", "en": "Large"},
    # ---- sign-in ----
    "courier.pin.enter": {
        "zh-CN": "{name}，请输入您的密码",
        "en": "{name}, please enter your PIN",
    },
    "courier.pin.hint": {
        "zh-CN": "密码为 4 至 8 位数字，输完请按“确定”。",
        "en": "4 to 8 digits, then press OK.",
    },
    "courier.pin.checking": {"zh-CN": "正在核对密码…", "en": "Checking your PIN…"},
    "courier.pin.looking_up": {"zh-CN": "正在核对工作证…", "en": "Checking your card…"},
    "courier.pin.wrong": {
        "zh-CN": "密码不正确，还可以再试 {left} 次。",
        "en": "Wrong PIN. {left} attempt(s) left.",
    },
    "courier.refused.no_roster": {
        "zh-CN": "本机还没有收到投递员名单，无法登录。请联系技术人员把终端连上政务服务网。",
        "en": "This terminal has no courier list yet. Ask a technician to connect it to the "
        "service hall.",
    },
    "courier.refused.roster_expired": {
        "zh-CN": "本机的投递员名单已过期太久（终端长时间离线），为安全起见暂停登录。"
        "请联系技术人员恢复网络。",
        "en": "This terminal's courier list is too old (it has been offline too long), so "
        "sign-in is paused for safety. Ask a technician to restore the connection.",
    },
    "courier.refused.unknown_card": {
        "zh-CN": "此卡不在本机的投递员名单中。如您刚被登记，请等待名单更新或联系服务中心。",
        "en": "This card is not on this terminal's courier list. If you were added recently, "
        "wait for the list to update or call the service centre.",
    },
    "courier.refused.card_locked": {
        "zh-CN": "密码错误次数过多，此卡在本机已锁定，请在 {until} 后再试。",
        "en": "Too many wrong PINs: this card is locked on this terminal until {until}.",
    },
    # ---- menu ----
    "courier.menu.hello": {
        "zh-CN": "您好，{name}。请选择要做的事。",
        "en": "Hello {name}. Choose a task.",
    },
    "courier.menu.loading": {"zh-CN": "正在统计待办任务…", "en": "Counting the tasks…"},
    "courier.menu.load_failed": {
        "zh-CN": "任务统计失败：{reason}",
        "en": "The tasks could not be counted: {reason}",
    },
    # ---- collect / returns ----
    "courier.collect.overview": {
        "zh-CN": "共有 {count} 个格口存有申请材料。",
        "en": "{count} compartment(s) hold materials for the centre.",
    },
    "courier.returns.overview": {
        "zh-CN": "共有 {count} 份结果已过领取期限，请取回。",
        "en": "{count} result(s) are past their pickup deadline: take them back.",
    },
    "courier.run.progress": {
        "zh-CN": "已处理 {done} 个，还剩 {left} 个",
        "en": "{done} done, {left} left",
    },
    "courier.run.list_heading": {"zh-CN": "格口清单", "en": "Compartments"},
    "courier.run.nothing": {"zh-CN": "没有需要处理的格口。", "en": "Nothing to do here."},
    "courier.run.open_seal": {
        "zh-CN": "{label} 号格口已打开：请扫描袋子上的封签条码，取出材料，关好门。",
        "en": "Compartment {label} is open: scan the seal on the bag, take it out, close the door.",
    },
    "courier.run.open_sealed": {
        "zh-CN": "封签已登记：请从 {label} 号格口取出材料，关好门。",
        "en": "Seal recorded: take the bag out of compartment {label} and close the door.",
    },
    "courier.run.open_return": {
        "zh-CN": "{label} 号格口已打开：请取出结果，关好门。",
        "en": "Compartment {label} is open: take the result out and close the door.",
    },
    "courier.run.finished": {
        "zh-CN": "全部处理完毕：完成 {done} 个，有问题 {problems} 个。",
        "en": "All done: {done} finished, {problems} with a problem.",
    },
    "courier.run.ask_empty": {
        "zh-CN": "{label} 号格口现在是空的吗？",
        "en": "Is compartment {label} empty now?",
    },
    "courier.row.waiting": {"zh-CN": "等待开门", "en": "waiting"},
    "courier.row.opening": {"zh-CN": "正在开门…", "en": "opening…"},
    "courier.row.open": {"zh-CN": "门已开", "en": "door open"},
    "courier.row.open_sealed": {"zh-CN": "门已开，封签 {seal}", "en": "door open, seal {seal}"},
    "courier.row.checking": {"zh-CN": "正在确认…", "en": "checking…"},
    "courier.row.asking": {"zh-CN": "请确认是否已取空", "en": "is it empty?"},
    "courier.row.collected": {"zh-CN": "已取走，封签 {seal}", "en": "collected, seal {seal}"},
    "courier.row.collected_no_seal": {"zh-CN": "已取走（无封签）", "en": "collected (no seal)"},
    "courier.row.returned": {"zh-CN": "已取回", "en": "taken back"},
    "courier.row.left_inside": {
        "zh-CN": "仍有物品，已通知工作人员",
        "en": "something left inside: staff alerted",
    },
    "courier.row.jammed": {"zh-CN": "门打不开，已停用", "en": "door jammed: out of service"},
    "courier.row.no_answer": {
        "zh-CN": "柜门无响应，已通知工作人员",
        "en": "the lock board does not answer: staff alerted",
    },
    "courier.run.door_still_open": {
        "zh-CN": "{label} 号格口的门还开着，请关好。",
        "en": "The door of {label} is still open: please close it.",
    },
    "courier.run.seal_bound": {
        "zh-CN": "封签 {seal} 已登记到 {label} 号格口的材料。",
        "en": "Seal {seal} recorded for the materials of {label}.",
    },
    "courier.run.seal_no_door": {
        "zh-CN": "现在没有打开的格口等待封签。",
        "en": "No open compartment is waiting for a seal.",
    },
    "courier.run.seal_failed": {
        "zh-CN": "封签未能登记：{reason}",
        "en": "The seal could not be recorded: {reason}",
    },
    # ---- load ----
    "courier.load.scan": {
        "zh-CN": "请扫描结果信封上的条码（办件编号）。",
        "en": "Scan the barcode on the result's envelope (the tracking number).",
    },
    "courier.load.progress": {
        "zh-CN": "本次已放入 {count} 份",
        "en": "{count} loaded in this session",
    },
    "courier.load.size_heading": {"zh-CN": "格口大小", "en": "Compartment size"},
    "courier.load.matching": {"zh-CN": "正在查找任务…", "en": "Looking up the task…"},
    "courier.load.choose_size": {
        "zh-CN": "{description}（{tracking}）：请选择格口大小。",
        "en": "{description} ({tracking}): choose a compartment size.",
    },
    "courier.load.reserving": {"zh-CN": "正在分配格口…", "en": "Finding a compartment…"},
    "courier.load.opening": {
        "zh-CN": "正在打开 {label} 号格口…",
        "en": "Opening compartment {label}…",
    },
    "courier.load.put_in": {
        "zh-CN": "{label} 号格口已打开：请放入信封，关好门。",
        "en": "Compartment {label} is open: put the envelope in and close the door.",
    },
    "courier.load.checking": {"zh-CN": "正在确认…", "en": "Checking…"},
    "courier.load.ask_inside": {
        "zh-CN": "信封已放入 {label} 号格口了吗？",
        "en": "Is the envelope inside compartment {label}?",
    },
    "courier.load.no_item_seen": {
        "zh-CN": "{label} 号格口里没有检测到信封。请重新开门放入，或选择不放。",
        "en": "No envelope was detected in {label}. Open the door again to put it in, or "
        "do not load it.",
    },
    "courier.load.loaded": {
        "zh-CN": "已放入 {label} 号格口，取件码已发给群众。可扫描下一个信封。",
        "en": "Stored in {label}; the pickup code goes to the citizen. Scan the next envelope.",
    },
    "courier.load.no_task": {
        "zh-CN": "条码 {text} 没有对应的投递任务，请勿放入本机，带回服务中心。",
        "en": "No delivery task for {text} at this terminal: do not load it here; take it "
        "back to the centre.",
    },
    "courier.load.already_loaded": {
        "zh-CN": "这份结果已放在 {label} 号格口，无需再放。",
        "en": "This result is already in compartment {label}.",
    },
    "courier.load.unreadable": {
        "zh-CN": "条码无法识别，请重新扫描。",
        "en": "That barcode could not be read: scan it again.",
    },
    "courier.load.no_compartment": {
        "zh-CN": "没有空闲的{size}，请选择其他大小，或带回服务中心。",
        "en": "No free {size} compartment: choose another size, or take it back to the centre.",
    },
    "courier.load.jammed": {
        "zh-CN": "{label} 号格口打不开，已停用，正在换一个格口。",
        "en": "Compartment {label} did not open; it is out of service. Trying another one.",
    },
    "courier.load.door_unknown": {
        "zh-CN": "柜门无响应，已通知工作人员。请把信封带回。",
        "en": "The lock board does not answer; staff were alerted. Keep the envelope.",
    },
    "courier.load.failed": {
        "zh-CN": "未能登记：{reason}",
        "en": "It could not be recorded: {reason}",
    },
    "courier.load.cancelled": {
        "zh-CN": "已取消，{label} 号格口已释放。",
        "en": "Cancelled; compartment {label} is free again.",
    },
    "courier.load.close_first": {
        "zh-CN": "请先取回信封并关好 {label} 号格口的门。",
        "en": "Take the envelope back and close the door of {label} first.",
    },
    # ---- session ----
    "courier.idle.warning": {
        "zh-CN": "长时间无操作，{seconds} 秒后自动退出。",
        "en": "No activity: signing out in {seconds} s.",
    },
}


def tr(key: str, language: Language, **args: object) -> str:
    return look_up(COURIER_MESSAGES, "kiosk/courier/texts.py", key, language, args)
