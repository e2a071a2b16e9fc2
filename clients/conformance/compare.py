"""Checks that every verifier gave every case its expected outcomes, and so
that they agree; prints a table of what each made of each case.
    python compare.py CASES RESULTS...   (each RESULTS file named LANGUAGE.json)"""

import json
import sys
from pathlib import Path


def main(cases_path: str, *results_paths: str) -> int:
    cases = json.loads(Path(cases_path).read_text())["cases"]
    results = {Path(path).stem: json.loads(Path(path).read_text()) for path in results_paths}
    disagreements = 0
    for case in cases:
        name, expected = case["name"], case["expect"]
        got = {language: [outcome["error"] for outcome in made.get(name, [])] for language, made in results.items()}
        wrong = [language for language, outcomes in got.items() if outcomes != expected]
        disagreements += bool(wrong)
        print(f"{'FAIL' if wrong else 'ok  '} {name}: expected {' then '.join(expected)}")
        for language in wrong:
            reasons = [outcome["description"] for outcome in results[language].get(name, [])]
            print(f"       {language} made it {' then '.join(got[language]) or 'nothing'} ({'; '.join(reasons)})")
    languages = ", ".join(results)
    if disagreements:
        print(f"conformance: {disagreements} of {len(cases)} cases where {languages} do not all give the expected outcome")
        return 1
    print(f"conformance: {languages} agree on all {len(cases)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
