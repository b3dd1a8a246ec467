"""Run pip-audit on the project's virtualenv: fail on any known vulnerability it reports; only warn when the
vulnerability service could not be asked (no network), never hide findings it did get."""

import json
import subprocess
import sys

result = subprocess.run(
    [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--format", "json"],
    capture_output=True,
    text=True,
    check=False,
)
try:
    report = json.loads(result.stdout)
except json.JSONDecodeError:
    print(f"pip-audit: WARNING, could not run the audit (exit {result.returncode}):\n{result.stderr[-2000:]}")
    sys.exit(0)

dependencies = report.get("dependencies", [])
vulnerable = [d for d in dependencies if d.get("vulns")]
skipped = [d for d in dependencies if d.get("skip_reason")]
for dependency in vulnerable:
    for vulnerability in dependency["vulns"]:
        fixes = ", ".join(vulnerability.get("fix_versions", [])) or "no fix yet"
        print(f"pip-audit: {dependency['name']} {dependency['version']}: {vulnerability['id']} (fixed in {fixes})")
audited = len(dependencies) - len(skipped)
print(f"pip-audit: {audited} packages audited, {len(vulnerable)} vulnerable, {len(skipped)} could not be audited")
if skipped and not audited:
    print("pip-audit: WARNING, the vulnerability service was unreachable; nothing could be checked")
sys.exit(1 if vulnerable else 0)
