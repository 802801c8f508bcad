"""The console's message catalogue: English keys, Chinese (zh-CN, the default) translations."""

from __future__ import annotations

LANGS = ("zh", "en")

ZH: dict[str, str] = {
    "fengkong console": "风控控制台", "Log in": "登录", "Log out": "退出", "Username": "用户名",
    "Password": "密码", "Wrong username or password.": "用户名或密码错误。",
    "Your session ended after a period of inactivity; please log in again.": "长时间未操作，会话已结束，请重新登录。",
    "Cases": "案件", "Inbox": "待办", "Rings": "团伙", "Strategies": "策略", "Monitoring": "监控",
    "Compliance": "合规", "Take next case": "领取下一个案件", "No case is waiting.": "暂无待处理案件。",
    "Queue": "队列", "Product": "产品", "Status": "状态", "Priority": "优先级", "Amount at risk": "风险金额",
    "Score": "评分", "Assignee": "处理人", "Created": "创建时间", "SLA due": "时限", "Title": "标题",
    "all": "全部", "Filter": "筛选", "Mine": "我的", "breached": "已超时", "open": "待领取",
    "assigned": "处理中", "pending_approval": "待复核", "closed": "已结案",
    "identity": "身份冒用", "ring": "团伙欺诈", "multi_head": "多头借贷", "cash_out": "套现",
    "fund_flow": "资金流向", "complaints": "投诉", "collections": "催收", "review": "人工审核",
    "Case": "案件", "Evidence": "证据", "Reason codes": "原因码", "Rule": "规则", "Rule text": "规则说明",
    "Features used": "使用的特征", "Feature": "特征", "Value": "取值", "Meaning": "含义",
    "Scorecard points": "评分卡得分", "Characteristic": "评分项", "Points": "分值",
    "Identity elements (masked)": "身份要素（脱敏）", "Linked cluster": "关联网络",
    "Customer timeline": "客户事件时间线", "Earlier cases": "历史案件", "Case history": "案件记录",
    "Decide": "决定", "Decision": "决定", "Note (required)": "备注（必填）", "approve": "通过",
    "decline": "拒绝", "request_documents": "补充材料", "confirm_fraud": "确认欺诈",
    "false_positive": "误报", "resolved": "已处理", "Put on block lists": "加入黑名单",
    "List expiry (days)": "名单有效期（天）", "Whitelist the identity": "身份加入白名单",
    "Assign to": "分配给", "Assign": "分配", "Release": "退回待办", "Escalate": "升级", "Snooze (hours)": "暂缓（小时）",
    "Snooze": "暂缓", "Comment": "评论", "Add comment": "添加评论", "Approve decision": "复核通过",
    "Send back": "退回", "This decision needs a second person (four-eyes).": "该决定需要第二人复核（四眼原则）。",
    "Page": "页", "Next": "下一页", "Previous": "上一页", "You do not have access to this page.": "您无权访问此页面。",
    "Roles needed": "需要的角色", "Back": "返回", "Language": "语言", "Event": "事件", "Time": "时间",
    "Outcome": "结果", "Actor": "操作人", "Action": "操作", "Not found.": "未找到。", "Members": "成员",
    "Shared elements": "共享要素", "Ring report": "团伙报告", "Mark confirmed": "标记为已确认",
    "Publish to lists": "发布到名单", "Graph": "关系图", "Expand": "展开", "Timeline": "时间线",
    "Outcomes so far": "目前结果", "Loss": "损失", "Evidence share": "证据占比", "Kind": "类型",
    "Element": "要素", "First seen": "首次出现", "Size": "人数", "Loans": "贷款笔数",
    "Disbursed (yuan)": "放款金额（元）", "Defaulted members": "逾期成员", "Worst DPD": "最长逾期天数",
    "Not-me complaints": "非本人投诉", "Customer": "客户", "No world data configured.": "未配置数据目录。",
    "Versions": "版本", "Route": "路由", "Champion": "冠军", "Challengers": "挑战者", "Shadows": "影子",
    "Deployed at": "部署时间", "Deployed by": "部署人", "Version": "版本", "Diff": "对比", "Edit": "编辑",
    "Validate": "校验", "Backtest": "回测", "Deploy": "部署", "Roll back": "回滚", "History": "历史",
    "Approval rate": "通过率", "Hit rate": "命中率", "Bad rate": "坏账率", "Swap set": "换入换出",
    "Outcome mix": "结果分布", "Rule hit rates": "规则命中率", "From": "开始", "To": "结束",
    "Valid.": "校验通过。", "Deploy as": "部署为", "challenger": "挑战者", "shadow": "影子", "champion": "冠军",
    "Percent": "比例", "Pending approvals": "待审批", "Approve": "批准", "Reject": "驳回",
    "Champion vs challenger": "冠军与挑战者", "Decisions": "决策数", "Decisions per hour": "每小时决策数",
    "Latency p50 / p99 (ms)": "延迟 p50 / p99（毫秒）", "Fallbacks": "兜底次数", "Errors": "错误次数",
    "Score drift (PSI)": "评分漂移（PSI）", "Feature drift (PSI)": "特征漂移（PSI）", "Alerts": "告警",
    "No alerts.": "无告警。", "Quarter": "季度", "Lender type": "机构类型", "Channel": "渠道", "Limit": "上限",
    "QTD average": "季度至今平均", "Projected": "预测", "Loans above the per-loan cap": "超过单笔上限的贷款",
    "Loan": "贷款", "Disclosure table": "综合融资成本明示表", "Interest subsidy claims": "贴息申领",
    "Branch": "分支机构", "Borrowers": "借款人数", "Claim (yuan)": "申领金额（元）", "Ledger": "台账",
    "Download Excel": "下载 Excel", "Principal (yuan)": "本金（元）", "APR (IRR)": "年化成本（IRR）",
    "Cap": "上限", "Item": "项目", "Payee": "收款方", "Amount (yuan)": "金额（元）",
    "Annualised": "年化贡献", "Save": "保存", "Saved as version": "已保存为版本", "Line": "行", "Column": "列",
    "Strategy": "策略", "Events": "事件数", "Rules": "规则", "flipped": "翻转", "Added": "新增",
    "Removed": "删除", "Changed": "修改", "Text diff": "文本差异", "Requested by": "申请人",
    "Approved": "已批准", "Confirmed": "已确认", "Published": "已发布", "Search customer": "搜索客户",
    "Decided by": "决定人", "Due": "到期", "Escalated": "已升级", "Snoozed until": "暂缓至",
    "Rule hit-rate alerts": "规则命中率告警", "Previous day": "前一日", "Last day": "最近一日",
    "Population stability by month": "按月群体稳定性", "PSI vs training": "相对训练样本的 PSI",
    "Population stability vs the first month": "相对首月的群体稳定性",
    "Population stability vs the first month (no training sample configured)": "相对首月的群体稳定性（未配置训练样本）",
    "Month": "月份", "PSI": "PSI",
    "Home": "首页", "Welcome": "欢迎", "Reviewer": "审核员", "Approve to champion": "批准为冠军",
    "Request": "申请", "Cluster summary": "关联网络摘要", "Open ring view": "打开关系图",
    "cases": "件", "Bin": "分箱", "Hits": "命中数", "Days": "天数", "Labelled": "有标签",
    "Collection": "收取方式", "Standard": "收费标准", "Institution": "机构", "Accrued (yuan)": "计提（元）", "Open a case": "立案", "Sort by": "排序", "sort:priority": "优先级", "sort:amount": "风险金额", "sort:score": "评分",
    "sort:due": "时限", "Role": "角色", "within the cap": "未超上限", "above the cap": "超过上限", "Ring member": "团伙成员", "ID number": "身份证号", "Phone": "手机号", "Device": "设备", "Name": "姓名",
    "Bank card": "银行卡", "Intermediary code": "中介代码", "IP address": "IP 地址", "Status of the route": "路由状态", "Nothing to show.": "暂无数据。",
}


#: English texts of keys that are not English sentences themselves.
EN = {"sort:priority": "priority", "sort:amount": "amount at risk", "sort:score": "score", "sort:due": "SLA due"}


def translate(lang: str, text: str) -> str:
    """The ``lang`` text of an English message (English, or the key itself, when no translation exists)."""
    if lang == "zh":
        return ZH.get(text, text)
    return EN.get(text, text)
