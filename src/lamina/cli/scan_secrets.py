"""``lamina scan --scanners secret``: analyze's secret findings joined with secret_rules hits.

analyze already finds private keys and ``.env`` files, including those a later
layer deletes (findings.secrets); the scanner adds cloud credentials and tokens
found in file contents. A key both find is reported once, as analyze words it.
"""

from __future__ import annotations

from lamina.analyze import findings
from lamina.analyze.analysis import analyze_image
from lamina.client.image_source import OpenedImage
from lamina.scan.secrets import SecretFinding, find_secrets, from_hit


def _from_analyze(finding: findings.Finding) -> SecretFinding:
    label = "private key" if "private key" in finding.title else ".env file"
    rule = "private-key" if label == "private key" else "env-file"
    return SecretFinding(rule, "AsymmetricPrivateKey" if rule == "private-key" else "EnvFile",
                         "HIGH", finding.title, finding.paths[0] if finding.paths else "",
                         finding.layer if finding.layer is not None else -1,
                         finding.rule == "secret", fix=finding.fix)


def find(src: OpenedImage) -> tuple[list[SecretFinding], list[str]]:
    image = src.image
    analysis = analyze_image(image, src.open_layer, name=src.name, index_layer=src.layer_index)
    out = [_from_analyze(f) for f in findings.secrets(analysis)]
    known = {(s.layer, s.path) for s in out}
    final = {(f.layer, "/" + f.path) for f in analysis.final_files()}
    hits, problems = find_secrets([layer.descriptor for layer in image.layers], src.open_blob)
    for hit in hits:
        if hit.rule.id == "private-key" and (hit.layer, hit.path) in known:
            continue
        out.append(from_hit(hit, (hit.layer, hit.path) in final))
    out.sort(key=lambda s: (s.layer, s.path, s.line, s.rule))
    return out, problems
