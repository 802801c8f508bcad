"""Realistic plaintext identity elements (ID numbers, mobiles, names, bank cards), generated in memory only.

They are tokenised before anything is written; :func:`plaintext_identities` regenerates them from the
config so tests can prove that no plaintext value reaches any output byte.
"""

from __future__ import annotations

import numpy as np

from fengkong.simulate import geo

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
                "苏魏吕丁任沈姚卢姜崔钟谭陆汪范廖贾夏韦付邹孟熊秦邱尹薛闫段侯史陶黎贺顾毛郝龚邵钱覃戴莫孔汤")
_SURNAME_W = np.linspace(3.0, 0.3, len(SURNAMES))
GIVEN = list("伟芳娜敏静丽磊洋艳勇军杰娟涛秀霞桂玲鹏辉燕斌琳婷浩俊雪倩宇欣怡梓涵轩博睿晨佳雯瑶璐彤萱"
             "颖妍昊奕哲凯悦蕾薇婧淑旭楠晶琪瑞舒岚峰毅帆昕玥茜卓铭")
PHONE_PREFIXES = np.array([130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 153, 155,
                           156, 157, 158, 159, 166, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185,
                           186, 187, 188, 189, 191, 198, 199], dtype=np.int64)
# (BIN, total length) of debit cards of large Chinese banks
CARD_BINS = np.array([622202, 621700, 622848, 621661, 622588, 622700, 621226, 622609, 623058, 621483],
                     dtype=np.int64)
CARD_LENS = np.array([19, 19, 19, 19, 16, 19, 19, 16, 19, 16], dtype=np.int64)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = "10X98765432"


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """n×width matrix of the decimal digits of non-negative int64 values (left-padded with zeros)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def id_check_digit(body17: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters of 17-digit ID-number bodies."""
    r = (_digits(body17, 17) @ _ID_WEIGHTS) % 11
    return np.array(list(_ID_CHECK))[r]


def id_numbers(rng: np.random.Generator, region_code: np.ndarray, birth: np.ndarray,
               male: np.ndarray) -> list[str]:
    """18-digit resident ID numbers: region prefix, birth date, sequence (odd = male), check digit."""
    n = len(region_code)
    ymd = birth.astype("datetime64[D]").astype(object)
    ymd_int = np.array([d.year * 10000 + d.month * 100 + d.day for d in ymd], dtype=np.int64)
    seq = rng.integers(0, 500, n) * 2 + male.astype(np.int64)
    body = region_code * 10**11 + ymd_int * 10**3 + seq
    check = id_check_digit(body)
    return [f"{b:017d}{c}" for b, c in zip(body.tolist(), check.tolist(), strict=True)]


def luhn_check_digit(payload: np.ndarray) -> np.ndarray:
    """Luhn check digits for integer payloads (the check digit is appended on the right)."""
    d = _digits(payload, 18)[:, ::-1]  # rightmost payload digit first
    dbl = d.copy()
    dbl[:, 0::2] *= 2
    dbl[dbl > 9] -= 9
    return (10 - dbl.sum(axis=1) % 10) % 10


def _unique(draw, n: int) -> np.ndarray:
    """``n`` distinct values from repeated calls of ``draw(k)``, in draw order."""
    out = np.unique(draw(n), return_index=True)
    vals = out[0][np.argsort(out[1])]
    while len(vals) < n:
        more = draw(n - len(vals) + 16)
        allv = np.concatenate([vals, more])
        u, idx = np.unique(allv, return_index=True)
        vals = u[np.argsort(idx)]
    return vals[:n]


def phones(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct 11-digit mainland mobile numbers."""
    def draw(k: int) -> np.ndarray:
        return rng.choice(PHONE_PREFIXES, k) * 10**8 + rng.integers(0, 10**8, k)
    return [str(v) for v in _unique(draw, n).tolist()]


def cards(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct 16–19-digit bank card numbers with a bank BIN and a Luhn check digit."""
    def draw(k: int) -> np.ndarray:
        b = rng.integers(0, len(CARD_BINS), k)
        length = CARD_LENS[b]
        rest = length - 7  # digits between the BIN and the check digit
        payload = CARD_BINS[b] * 10**rest + rng.integers(0, 10**rest)
        return payload * 10 + luhn_check_digit(payload)
    return [str(v) for v in _unique(draw, n).tolist()]


def names(rng: np.random.Generator, n: int) -> list[str]:
    """Chinese names: a weighted surname and a one- or two-character given name."""
    s = np.array(SURNAMES)[rng.choice(len(SURNAMES), n, p=_SURNAME_W / _SURNAME_W.sum())]
    g = np.array(GIVEN)
    g1 = g[rng.integers(0, len(g), n)]
    g2 = np.where(rng.random(n) < 0.7, g[rng.integers(0, len(g), n)], "")
    return (np.char.add(np.char.add(s, g1), g2)).tolist()


def person_identities(rng: np.random.Generator, region: np.ndarray, age: np.ndarray, male: np.ndarray,
                      ref_day: np.datetime64) -> dict[str, list[str]]:
    """ID numbers, names for people living in ``region``; most were born there (the ID prefix)."""
    n = len(region)
    birth_region = np.where(rng.random(n) < 0.8, region, rng.choice(geo.N_REGIONS, n, p=geo.WEIGHT))
    birth = ref_day - (age * 365.25 + rng.integers(1, 365, n)).astype(np.int64).astype("timedelta64[D]")
    ids = id_numbers(rng, geo.CODE[birth_region], birth, male)
    seen: set[str] = set()
    for i, v in enumerate(ids):  # ID numbers must be unique: re-draw the sequence on a clash
        while v in seen:
            body = int(v[:14]) * 1000 + int(rng.integers(0, 500)) * 2 + int(male[i])
            v = f"{body:017d}{id_check_digit(np.array([body]))[0]}"
        seen.add(v)
        ids[i] = v
    return {"id": ids, "name": names(rng, n), "birth": birth}
