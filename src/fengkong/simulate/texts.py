"""Chinese business names of merchants/counterparties and complaint texts (templates with variations)."""

from __future__ import annotations

import numpy as np

BRANDS = ("恒信", "鑫源", "宏达", "顺通", "汇丰源", "金诚", "众联", "鼎盛", "腾达", "新纪元", "百川", "嘉禾", "瑞丰",
          "永信", "天元", "通达", "中联", "远航", "盛世", "东方", "九州", "万通", "聚宝", "利民", "友谊", "光大",
          "四海", "长青", "兴业", "同创", "亿家", "优品", "乐购", "惠民", "星河", "蓝海", "正通", "方圆", "协和",
          "万象", "华夏", "京港", "锦程", "福满", "泰和", "中汇", "国信", "安泰", "富达", "宏图")

SUFFIX: dict[str, tuple[str, ...]] = {
    "everyday_retail": ("超市有限公司", "商贸有限公司", "便利店", "百货有限公司"),
    "catering": ("餐饮管理有限公司", "餐饮店", "食品有限公司"),
    "home_appliance": ("电器有限公司", "家电销售有限公司"),
    "electronics": ("数码科技有限公司", "通讯器材有限公司", "电子商行"),
    "furniture": ("家具有限公司", "家居用品有限公司"),
    "decoration": ("装饰工程有限公司", "建材有限公司"),
    "auto": ("汽车销售服务有限公司", "汽车维修服务有限公司"),
    "education": ("教育科技有限公司", "职业培训学校", "文化培训中心"),
    "travel": ("国际旅行社有限公司", "酒店管理有限公司", "旅游服务有限公司"),
    "healthcare": ("医院", "大药房有限公司", "口腔门诊部", "医疗美容诊所"),
    "elderly_childcare": ("养老服务有限公司", "托育服务有限公司", "母婴用品有限公司"),
    "culture_sports": ("体育文化有限公司", "健身服务有限公司", "文化传媒有限公司"),
    "jewelry_luxury": ("珠宝首饰有限公司", "黄金珠宝行", "名品商行"),
    "public_service": ("物业服务有限公司", "公益服务中心", "供水有限公司"),
    "real_estate": ("置业有限公司", "房地产开发有限公司", "房产经纪有限公司"),
    "securities": ("证券股份有限公司", "证券营业部"),
    "futures": ("期货有限公司",),
    "fund_wealth": ("基金销售有限公司", "财富管理有限公司", "基金管理有限公司"),
    "crypto": ("数字资产交易服务有限公司",),
    "gambling": ("娱乐有限公司",),
    "lender": ("小额贷款有限公司", "消费金融有限公司", "融资担保有限公司"),
    "insurance": ("保险代理有限公司", "保险经纪有限公司"),
    "business_supplier": ("贸易有限公司", "供应链管理有限公司"),
}

#: Other wordings of prohibited-use payees (``fund_misuse_payee_names="variant"``): developers' sales and
#: escrow accounts, brokers' subsidiaries, trust and asset-management firms, online micro-lenders, card centres.
VARIANT_SUFFIX: dict[str, tuple[str, ...]] = {
    "real_estate": ("地产集团有限公司", "房地产营销策划有限公司", "商品房预售资金监管账户", "不动产投资有限公司"),
    "securities": ("证券经纪有限责任公司", "证券资产管理有限公司", "银证转账专户"),
    "futures": ("期货经纪有限公司", "期货保证金账户"),
    "fund_wealth": ("资产管理有限公司", "信托有限责任公司", "理财子公司", "私募基金管理有限公司"),
    "lender": ("网络小额贷款有限公司", "汽车金融有限公司", "银行信用卡中心"),
    "crypto": ("数字货币交易服务有限公司", "虚拟货币兑换服务有限公司"),
    "gambling": ("彩票销售有限公司", "博彩娱乐有限公司"),
    "business_supplier": ("供应链管理有限公司", "原材料批发有限公司"),
}


EMPLOYER_SUFFIX = ("科技有限公司", "商贸有限公司", "实业有限公司", "服务有限公司", "制造有限公司", "物流有限公司",
                   "建设工程有限公司", "信息技术有限公司")


def employer_names(rng: np.random.Generator, cities: np.ndarray) -> list[str]:
    """Registered names of employers (any industry)."""
    n = len(cities)
    b = np.array(BRANDS)[rng.integers(0, len(BRANDS), n)]
    s = np.array(EMPLOYER_SUFFIX)[rng.integers(0, len(EMPLOYER_SUFFIX), n)]
    return np.char.add(np.char.add(cities.astype(str), b), s).tolist()


def company_names(rng: np.random.Generator, cities: np.ndarray, category: str) -> list[str]:
    """Registered-company style names such as ``成都恒信置业有限公司``."""
    n = len(cities)
    b = np.array(BRANDS)[rng.integers(0, len(BRANDS), n)]
    s = np.array(SUFFIX[category])[rng.integers(0, len(SUFFIX[category]), n)]
    return np.char.add(np.char.add(cities.astype(str), b), s).tolist()


def variant_names(rng: np.random.Generator, cities: np.ndarray, category: str) -> list[str]:
    """Payee names of a prohibited category in other wording (see :data:`VARIANT_SUFFIX`)."""
    n = len(cities)
    b = np.array(BRANDS)[rng.integers(0, len(BRANDS), n)]
    s = np.array(VARIANT_SUFFIX[category])[rng.integers(0, len(VARIANT_SUFFIX[category]), n)]
    return np.char.add(np.char.add(cities.astype(str), b), s).tolist()


# ---------------------------------------------------------------- organised (agent) complaint templates

AGENT_TEMPLATES = (
    "本人因{cause}，目前无力偿还贵司贷款，贵司催收人员{abuse}，严重影响本人及家人正常生活。现依据相关规定，"
    "要求贵司立即停止催收，减免全部罚息和违约金，并将剩余本金分{n}期偿还，同时修复本人征信记录。如不处理，"
    "本人将继续向监管部门投诉。",
    "我是贵司借款人，因{cause}失去收入来源，已无法按期还款。贵司存在{abuse}的行为，违反了监管要求。"
    "本人诉求：一、停止一切催收；二、免除利息及罚息；三、本金分{n}期偿还；四、消除不良征信记录。请贵司在"
    "规定时间内书面答复。",
    "投诉事由：贵司{abuse}，且收取的综合费用过高。本人现因{cause}确实无力还款，提供医院诊断证明为证。"
    "请求贵司停催停息，协商个性化分期{n}期，并申请征信修复，否则将通过法律途径维护本人合法权益。",
    "本人长期{cause}，现在每月收入无法覆盖还款。贵司催收时{abuse}，给本人造成极大精神压力。"
    "要求：停止催收、减免利息、按{n}期延期还本、修复征信。本人已委托代理人全权处理此事，请与代理人联系。",
)
CAUSES = ("突发重大疾病住院治疗", "身患重病长期治疗", "家人重病急需用钱", "失业且身体状况不佳", "罹患重疾丧失劳动能力")
ABUSES = ("频繁电话骚扰本人及通讯录联系人", "暴力催收并威胁恐吓", "多次拨打本人家人及同事电话", "催收态度恶劣、言语辱骂",
          "在非工作时间反复致电")


def agent_texts(rng: np.random.Generator, template_ids: np.ndarray) -> list[str]:
    """Near-duplicate complaint texts from an agent's templates with small random variations."""
    out = []
    for t in template_ids.tolist():
        txt = AGENT_TEMPLATES[t].format(cause=CAUSES[int(rng.integers(len(CAUSES)))],
                                        abuse=ABUSES[int(rng.integers(len(ABUSES)))],
                                        n=int(rng.choice([48, 60, 60, 60])))
        if rng.random() < 0.3:
            txt = txt.replace("贵司", "你公司")
        if rng.random() < 0.3:
            txt = txt.rstrip("。") + "。望妥善处理。"
        out.append(txt)
    return out


# ---------------------------------------------------------------- genuine complaints: composed fragments

_OPEN = ("你好，", "您好，", "", "我想反映一个问题：", "请帮忙处理：", "客服你好，", "")
_SERVICE = (
    "我上个月{d}号已经提前还款，但系统仍然显示有待还金额{a}元，",
    "账单里有一笔{a}元的分期手续费我没有看懂，和当初说明的不一样，",
    "退货已经{d}天了，退款{a}元还没有退回到额度里，",
    "app一直登录不上，还款页面报错，导致我差点逾期，",
    "客服电话打了{d}次都没有人接，",
    "我要求注销账户，但页面一直提示无法办理，",
    "自动扣款扣了两次，多扣了{a}元，",
    "额度突然被降低，没有任何通知，",
)
_HARDSHIP = (
    "最近公司裁员我失业了，暂时还不上这个月的{a}元，",
    "家里老人住院花了很多钱，这个月还款有困难，",
    "疫情后生意一直不好，收入减少了一半，",
    "我被拖欠工资{d}个月了，",
)
_ASK = ("希望尽快核实处理。", "请给我一个明确答复。", "麻烦把多收的钱退给我。", "希望能延期几天还款，我一定会还。",
        "能不能申请分期，我愿意继续还款。", "请尽快修复这个问题。", "谢谢。", "请工作人员回电。")
_NOT_ME = (
    "我从来没有在你们平台申请过贷款，今天收到催收电话才知道名下有一笔{a}元的借款，这不是我本人办理的，",
    "有人冒用我的身份证在贵司借了钱，我本人完全不知情，",
    "我的身份证之前丢失过，这笔借款不是我借的，我没有收到任何钱，",
    "催收人员说我欠款{a}元，但我根本没有注册过你们的账户，",
)
_NOT_ME_ASK = ("请立即停止向我催收并核查。", "我已经报警，请配合调查并消除我的征信记录。", "要求注销这笔借款，不是我本人的。",
               "请核实申请时的人脸和手机号，那不是我。")


def _fill(rng: np.random.Generator, s: str) -> str:
    return s.format(d=int(rng.integers(2, 28)), a=int(rng.integers(2, 400)) * 50)


def genuine_text(rng: np.random.Generator, kind: str) -> str:
    """A genuine complaint text of kind ``service``, ``hardship`` or ``not_me`` (diverse wording)."""
    if kind == "not_me":
        body = _fill(rng, _NOT_ME[int(rng.integers(len(_NOT_ME)))])
        return body + _NOT_ME_ASK[int(rng.integers(len(_NOT_ME_ASK)))]
    pool = _SERVICE if kind == "service" else _HARDSHIP
    k = 1 if rng.random() < 0.7 else 2
    parts = [_fill(rng, pool[int(i)]) for i in rng.choice(len(pool), k, replace=False)]
    return _OPEN[int(rng.integers(len(_OPEN)))] + "".join(parts) + _ASK[int(rng.integers(len(_ASK)))]


# ---------------------------------------------------------------- paraphrasing of agent templates

#: Interchangeable wordings an agent's writers use when they rewrite a template (each tuple: variants).
SYNONYMS = (
    ("贵司", "你公司", "贵公司", "你们公司", "该机构"), ("本人", "我", "申请人"), ("要求", "请求", "恳请", "诉求为"),
    ("立即", "马上", "尽快", "即刻"), ("停止催收", "停止一切催收行为", "暂停催收", "停催"),
    ("减免", "免除", "豁免"), ("罚息", "逾期罚息", "滞纳金"), ("征信记录", "信用记录", "征信"),
    ("无力偿还", "无法偿还", "没有能力还款", "确实还不上"), ("严重影响", "极大影响", "严重干扰"),
    ("监管部门", "银保监", "金融监管局", "12378"), ("相关规定", "有关法律法规", "监管规定"),
    ("分", "拆分为", "延长为"), ("修复", "消除", "删除"), ("投诉", "举报", "反映"),
)
_FILLERS = ("特此申请。", "望贵司体谅。", "情况属实。", "请予以考虑。", "盼复。", "")


def paraphrase(rng: np.random.Generator, text: str, p: float) -> str:
    """Rewrite ``text`` the way an agent's staff vary a template: each clause is, with probability ``p``,
    reworded (synonyms swapped); clauses are sometimes dropped or swapped, a filler sentence may be added."""
    if p <= 0:
        return text
    import re

    parts = [c for c in re.split(r"(?<=[，。；：])", text) if c]
    out = []
    for c in parts:
        if rng.random() < p:
            for group in SYNONYMS:
                for w in group:
                    if w in c:
                        c = c.replace(w, group[int(rng.integers(len(group)))], 1)
                        break
            if rng.random() < p / 4 and len(parts) > 4:
                continue  # clause dropped
        out.append(c)
    if len(out) > 3 and rng.random() < p / 2:
        i = int(rng.integers(1, len(out) - 1))
        out[i], out[i + 1] = out[i + 1], out[i]
    if rng.random() < p:
        out.append(_FILLERS[int(rng.integers(len(_FILLERS)))])
    return "".join(out)


_REP_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_REP_GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "强", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞")


def rep_name(rng: np.random.Generator) -> str:
    """A representative's (plaintext) name; only its token is ever written."""
    return (_REP_SURNAMES[int(rng.integers(len(_REP_SURNAMES)))] + _REP_GIVEN[int(rng.integers(len(_REP_GIVEN)))]
            + _REP_GIVEN[int(rng.integers(len(_REP_GIVEN)))])


_ILLNESS = (
    "我今年{d}月查出{ill}，一直在住院治疗，医药费已经花了{a}元，",
    "确诊{ill}以后做了手术，现在还在康复期不能上班，",
    "因为{ill}需要长期化疗，家里积蓄都用完了，",
    "孩子患{ill}住院，我请假陪护了很久，收入断了，",
)
_ILLS = ("乳腺癌", "白血病", "尿毒症", "脑梗", "心脏病", "肺癌", "重度抑郁", "腰椎间盘突出")
_ILL_ASK = ("附上医院诊断证明，希望能暂缓几个月还款。", "我不是不还，希望可以申请分期。", "请考虑我的实际困难，减免一部分利息。",
            "病好了我会继续还，请不要再打电话给我家人。")
#: What a lawyer adds when a genuine client's complaint goes through a law firm.
LAWYER_SUFFIX = ("（本投诉由委托律师代为提交，律师函附后）", "现委托律师代为沟通。", "后续请与本人委托的律师联系。")


def genuine_illness_text(rng: np.random.Generator) -> str:
    """A genuine hardship complaint about an illness, in the customer's own words."""
    body = _ILLNESS[int(rng.integers(len(_ILLNESS)))].format(d=int(rng.integers(1, 13)),
                                                             ill=_ILLS[int(rng.integers(len(_ILLS)))],
                                                             a=int(rng.integers(20, 400)) * 100)
    return _OPEN[int(rng.integers(len(_OPEN)))] + body + _ILL_ASK[int(rng.integers(len(_ILL_ASK)))]
