"""Fixed vocabularies of the registry with Vietnamese and English labels (Vietnamese first)."""

from __future__ import annotations

__all__ = ["STATUSES", "UNREPORTED", "TYPES", "KINDS", "REPORT_STATES", "label"]

#: yearly status of a task
STATUSES: dict[str, tuple[str, str]] = {
    "not_started": ("Chưa triển khai", "Not started"),
    "in_progress": ("Đang triển khai", "In progress"),
    "ongoing": ("Thực hiện thường xuyên", "Ongoing (recurring duty)"),
    "completed": ("Hoàn thành", "Completed"),
    "delayed": ("Chậm tiến độ", "Delayed"),
    "suspended": ("Tạm dừng", "Suspended"),
}
#: pseudo-status of a task with no status recorded for the year
UNREPORTED = "unreported"
UNREPORTED_LABEL = ("Chưa báo cáo", "Not reported")

TYPES: dict[str, tuple[str, str]] = {
    "institutional": ("Thể chế, khung pháp lý", "Institutional and legal"),
    "research": ("Nghiên cứu, phát triển công nghệ", "Research and technology"),
    "infrastructure": ("Hạ tầng kỹ thuật", "Infrastructure"),
    "human-resources": ("Nguồn nhân lực", "Human resources"),
    "market": ("Thị trường", "Market"),
    "cooperation": ("Hợp tác", "Cooperation"),
    "awareness": ("Nâng cao nhận thức", "Awareness"),
    "reporting": ("Báo cáo, theo dõi", "Reporting and oversight"),
    "remote-sensing-product": ("Sản phẩm viễn thám", "Remote-sensing products"),
}

KINDS: dict[str, tuple[str, str]] = {
    "purpose": ("Mục đích", "Purpose"),
    "requirement": ("Yêu cầu", "Requirement"),
    "objective": ("Mục tiêu", "Objective"),
    "task": ("Nhiệm vụ", "Task"),
    "funding": ("Kinh phí", "Funding"),
    "oversight": ("Theo dõi, kiểm tra", "Oversight"),
    "coordination": ("Tổ chức thực hiện", "Coordination"),
    "reporting": ("Báo cáo", "Reporting"),
}

REPORT_STATES: dict[str, tuple[str, str]] = {
    "submitted": ("Đã gửi đúng hạn", "Submitted on time"),
    "submitted-late": ("Gửi muộn", "Submitted late"),
    "sent": ("Đã gửi", "Sent"),
    "sent-late": ("Gửi muộn", "Sent late"),
    "due": ("Đến hạn", "Due"),
    "upcoming": ("Chưa đến hạn", "Upcoming"),
    "overdue": ("Quá hạn", "Overdue"),
    "open": ("Đang tổng hợp", "Open"),
}


def label(table: dict[str, tuple[str, str]], key: str, lang: str = "vi") -> str:
    """Label of ``key`` in ``table`` in ``lang`` (``vi`` or ``en``); the key itself when unknown."""
    if key == UNREPORTED and table is STATUSES:
        return UNREPORTED_LABEL[0 if lang == "vi" else 1]
    pair = table.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "vi" else pair[1]
