"""Complaints pack: organised (代理维权) complaint detection, complaint groups as cases, the "not me" path."""
