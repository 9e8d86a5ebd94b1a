"""What the ALB test files share (tests/test_alb_verify.py, tests/test_alb_keys.py,
tests/test_local_alb.py): the load balancers' ARNs, a kid no ``LocalALB`` publishes, keys of
the wrong kind, and the docs' ALB section."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, rsa

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188"
OTHER_ARN = ARN.replace("my-alb/50dc6c495c0c9188", "other-alb/0123456789abcdef")
NO_SUCH_KID = "00000000-0000-4000-8000-000000000000"  # a UUID no LocalALB publishes

#: Keys of kinds an ALB never signs with (it signs ES256, P-256 only).
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
P384_KEY = ec.generate_private_key(ec.SECP384R1())


def alb_doc_section(name: str) -> str:
    """The "Behind an Application Load Balancer" section of SECURITY.md, or the page of the
    documentation (docs/alb.md) for "README.md", where the README's section moved."""
    if name == "README.md":
        text = (Path(__file__).parents[1] / "docs" / "alb.md").read_text(encoding="utf-8")
        return " ".join(text.split())
    text = (Path(__file__).parents[1] / name).read_text(encoding="utf-8")
    start = text.index("\n## Behind an Application Load Balancer")
    end = text.find("\n## ", start + 1)
    return " ".join(text[start : end if end > 0 else None].split())
