"""Malicious training that memorises its data (Song et al. 2017): the secret's bit and
pixel forms, the LSB, sign and correlated-value encodings, and decoded-image quality."""
