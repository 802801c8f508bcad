"""Regions of the synthetic world: province, city, a real district code (ID-number prefix), location, weight."""

from __future__ import annotations

import numpy as np

# province, city, district code (valid 6-digit administrative code), lat, lon, population weight, tier
REGIONS: tuple[tuple[str, str, int, float, float, float, int], ...] = (
    ("北京", "北京", 110105, 39.92, 116.44, 2.2, 1),
    ("上海", "上海", 310115, 31.22, 121.54, 2.5, 1),
    ("广东", "广州", 440106, 23.13, 113.36, 2.0, 1),
    ("广东", "深圳", 440305, 22.53, 113.93, 2.0, 1),
    ("广东", "东莞", 441900, 23.02, 113.75, 1.6, 2),
    ("浙江", "杭州", 330106, 30.27, 120.13, 1.8, 2),
    ("浙江", "温州", 330302, 28.00, 120.67, 1.2, 3),
    ("江苏", "南京", 320106, 32.06, 118.77, 1.4, 2),
    ("江苏", "苏州", 320505, 31.30, 120.57, 1.6, 2),
    ("四川", "成都", 510107, 30.64, 104.06, 2.6, 2),
    ("四川", "绵阳", 510703, 31.47, 104.68, 0.8, 3),
    ("湖北", "武汉", 420106, 30.55, 114.31, 1.8, 2),
    ("山东", "济南", 370102, 36.67, 117.02, 1.2, 2),
    ("山东", "青岛", 370202, 36.07, 120.38, 1.4, 2),
    ("山东", "临沂", 371302, 35.05, 118.35, 1.2, 3),
    ("河南", "郑州", 410105, 34.76, 113.65, 1.8, 2),
    ("河南", "南阳", 411302, 33.00, 112.53, 1.2, 3),
    ("河北", "石家庄", 130102, 38.05, 114.52, 1.4, 3),
    ("湖南", "长沙", 430104, 28.20, 112.94, 1.5, 2),
    ("福建", "福州", 350102, 26.08, 119.30, 1.0, 2),
    ("福建", "厦门", 350203, 24.45, 118.08, 0.8, 2),
    ("安徽", "合肥", 340104, 31.82, 117.23, 1.4, 2),
    ("陕西", "西安", 610113, 34.23, 108.95, 1.6, 2),
    ("重庆", "重庆", 500103, 29.55, 106.55, 2.0, 2),
    ("天津", "天津", 120101, 39.12, 117.20, 1.2, 2),
    ("辽宁", "沈阳", 210102, 41.80, 123.43, 1.1, 3),
    ("吉林", "长春", 220102, 43.82, 125.32, 0.8, 3),
    ("黑龙江", "哈尔滨", 230102, 45.76, 126.63, 1.0, 3),
    ("江西", "南昌", 360102, 28.68, 115.89, 1.0, 3),
    ("广西", "南宁", 450103, 22.82, 108.32, 1.1, 3),
    ("云南", "昆明", 530102, 25.04, 102.71, 1.1, 3),
    ("贵州", "贵阳", 520102, 26.58, 106.71, 0.9, 3),
    ("山西", "太原", 140105, 37.87, 112.55, 0.9, 3),
    ("内蒙古", "呼和浩特", 150102, 40.84, 111.75, 0.6, 3),
    ("新疆", "乌鲁木齐", 650102, 43.83, 87.62, 0.6, 3),
    ("甘肃", "兰州", 620102, 36.06, 103.83, 0.6, 3),
    ("海南", "海口", 460105, 20.04, 110.35, 0.5, 3),
    ("宁夏", "银川", 640104, 38.49, 106.23, 0.3, 3),
    ("青海", "西宁", 630102, 36.62, 101.78, 0.3, 3),
    ("西藏", "拉萨", 540102, 29.65, 91.13, 0.2, 3),
)

PROVINCE = np.array([r[0] for r in REGIONS])
CITY = np.array([r[1] for r in REGIONS])
CODE = np.array([r[2] for r in REGIONS], dtype=np.int64)
LAT = np.array([r[3] for r in REGIONS])
LON = np.array([r[4] for r in REGIONS])
WEIGHT = np.array([r[5] for r in REGIONS]) / sum(r[5] for r in REGIONS)
TIER = np.array([r[6] for r in REGIONS], dtype=np.int64)
N_REGIONS = len(REGIONS)


def distance_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle distance between region indices ``a`` and ``b``."""
    la1, lo1, la2, lo2 = (np.radians(x) for x in (LAT[a], LON[a], LAT[b], LON[b]))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 6371.0 * 2 * np.arcsin(np.sqrt(h))


def far_region(rng: np.random.Generator, home: np.ndarray, min_km: float = 1000.0) -> np.ndarray:
    """A random region at least ``min_km`` away from each home region (vectorised by rejection)."""
    out = rng.integers(0, N_REGIONS, len(home))
    for _ in range(50):
        bad = distance_km(home, out) < min_km
        if not bad.any():
            break
        out[bad] = rng.integers(0, N_REGIONS, int(bad.sum()))
    return out
