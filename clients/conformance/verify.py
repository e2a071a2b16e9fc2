"""The shared cases through the Python verifier, as a service built on it
meets them: the ``Authorization`` and ``DPoP`` headers of a call, the caller's
certificate, the scopes the call needs.
    python verify.py CASES RESULTS"""

import base64
import json
import sys
import urllib.request

from tokend_client import InvalidToken, Verifier
from tokend_client.presented import presented, verify_presented


def main(cases_path: str, results_path: str) -> None:
    with open(cases_path, encoding="utf-8") as file:
        cases = json.load(file)
    settings = cases["settings"]
    verifier = Verifier.discover(
        cases["issuer"], cases["audience"], leeway=settings["leeway_seconds"],
        refetch_interval=settings["refetch_interval_seconds"], dpop_proof_max_age=settings["dpop_proof_max_age_seconds"],
    )
    results = {}
    for case in cases["cases"]:
        token = case["token"]
        if "token_from" in case:
            with urllib.request.urlopen(urllib.request.Request(case["token_from"], method="POST"), timeout=10) as answer:
                token = answer.read().decode()
        results[case["name"]] = [present(verifier, case, token) for _ in case["expect"]]
    with open(results_path, "w", encoding="utf-8") as file:
        json.dump(results, file, indent=2)


def present(verifier: Verifier, case: dict, token: str) -> dict:
    certificate = base64.b64decode(case["certificate"]) if "certificate" in case else None
    proofs = [case["dpop_proof"]] if "dpop_proof" in case else []
    try:
        call = presented(f"{case['scheme']} {token}", proofs)
        verify_presented(verifier, call, case["scopes"], case["method"], case["url"], certificate)
    except InvalidToken as refused:
        return {"error": refused.error, "description": refused.description}
    return {"error": "ok", "description": ""}


if __name__ == "__main__":
    main(*sys.argv[1:])
