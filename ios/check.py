#!/usr/bin/env python3
"""What can be checked of the iOS app without a Mac (Swift is not compiled here).

- project.yml: the targets and Info.plist properties XcodeGen will generate, serialised with plistlib;
  background modes, task identifiers (against SyncScheduler.swift), the Bluetooth usage text, and the
  pinned upload sealing keys (base64 of 32 bytes each).
- Localizable.strings and InfoPlist.strings in vi.lproj and en.lproj: syntax (a strict parser), no
  duplicates, the same keys in both languages, the same placeholders (printf ones, and the `{retention}`
  and `{digits}` that L10n fills from the core's protocol constants, no other), and exactly the keys of
  L10nKey.
- Swift sources: every L10nKey case the code names exists; brackets balance outside strings and comments.
- ExportKeys.json parses; build-xcframework.sh passes `bash -n`.

Usage: python3 ios/check.py   (exit status 1 and a list of problems if anything is wrong)
"""

import base64
import binascii
import json
import plistlib
import re
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
APP = HERE / "OpenZone"
LANGUAGES = ("vi", "en")
problems: list[str] = []


def problem(text: str) -> None:
    problems.append(text)


def parse_strings(path: Path) -> dict[str, str]:
    """A strict reader of the `"key" = "value";` format with /* */ and // comments."""
    text = path.read_text(encoding="utf-8")
    entries: dict[str, str] = {}
    i = 0
    n = len(text)

    def skip_space_and_comments(i: int) -> int:
        while i < n:
            if text[i].isspace():
                i += 1
            elif text.startswith("/*", i):
                end = text.find("*/", i + 2)
                if end < 0:
                    raise ValueError(f"unclosed comment at {i}")
                i = end + 2
            elif text.startswith("//", i):
                end = text.find("\n", i)
                i = n if end < 0 else end + 1
            else:
                break
        return i

    def read_string(i: int) -> tuple[str, int]:
        if i >= n or text[i] != '"':
            raise ValueError(f"expected a quoted string at offset {i}: {text[i:i + 30]!r}")
        i += 1
        out = []
        while i < n:
            c = text[i]
            if c == "\\":
                if i + 1 >= n:
                    raise ValueError("dangling escape")
                nxt = text[i + 1]
                out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
                i += 2
            elif c == '"':
                return "".join(out), i + 1
            elif c == "\n":
                raise ValueError(f"newline inside a string at offset {i}")
            else:
                out.append(c)
                i += 1
        raise ValueError("unclosed string")

    while True:
        i = skip_space_and_comments(i)
        if i >= n:
            break
        key, i = read_string(i)
        i = skip_space_and_comments(i)
        if i >= n or text[i] != "=":
            raise ValueError(f"expected '=' after {key!r}")
        i = skip_space_and_comments(i + 1)
        value, i = read_string(i)
        i = skip_space_and_comments(i)
        if i >= n or text[i] != ";":
            raise ValueError(f"expected ';' after the value of {key!r}")
        i += 1
        if key in entries:
            raise ValueError(f"duplicate key {key!r}")
        entries[key] = value
    return entries


PLACEHOLDER = re.compile(r"%(?:\d+\$)?(?:lld|llu|ld|lu|d|u|@|f|\.\d+f|%)")


# The protocol's numbers L10n's subscript fills from `protocolConstants()`.
PROTOCOL_TOKEN = re.compile(r"\{(\w+)\}")
PROTOCOL_TOKENS = {"retention", "digits"}


def placeholders(text: str) -> list[str]:
    printf = [m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%"]
    return sorted(printf + [m.group(0) for m in PROTOCOL_TOKEN.finditer(text)])


def l10n_keys() -> dict[str, str]:
    source = (APP / "Localization" / "L10n.swift").read_text(encoding="utf-8")
    body = source[source.index("enum L10nKey"):source.index("struct L10n {")]
    return dict(re.findall(r'case (\w+) = "([^"]+)"', body))


def check_strings() -> None:
    tables = {}
    for language in LANGUAGES:
        for name in ("Localizable", "InfoPlist"):
            path = APP / "Resources" / f"{language}.lproj" / f"{name}.strings"
            try:
                tables[(language, name)] = parse_strings(path)
            except (OSError, ValueError) as e:
                problem(f"{path.relative_to(HERE)}: {e}")
    if problems:
        return
    for name in ("Localizable", "InfoPlist"):
        vi, en = tables[("vi", name)], tables[("en", name)]
        for key in sorted(set(vi) ^ set(en)):
            problem(f"{name}.strings: {key!r} is only in {'vi' if key in vi else 'en'}")
        for key in sorted(set(vi) & set(en)):
            if placeholders(vi[key]) != placeholders(en[key]):
                problem(f"{name}.strings: {key!r} has placeholders {placeholders(vi[key])} in vi, "
                        f"{placeholders(en[key])} in en")
            if not vi[key].strip() or not en[key].strip():
                problem(f"{name}.strings: {key!r} is empty")
            for token in sorted(set(PROTOCOL_TOKEN.findall(vi[key] + en[key])) - PROTOCOL_TOKENS):
                problem(f"{name}.strings: {key!r} has {{{token}}}, which L10n does not fill")
    cases = l10n_keys()
    raw = set(cases.values())
    localizable = set(tables[("vi", "Localizable")])
    for key in sorted(raw - localizable):
        problem(f"L10nKey {key!r} has no text")
    for key in sorted(localizable - raw):
        problem(f"Localizable.strings: {key!r} is not an L10nKey (unused)")
    if len(raw) != len(cases):
        problem("L10nKey: two cases share a key")


# An implicit member expression naming a text: `.statusProtected`, never `model.qaMode`.
L10N_PREFIXES = ("nav", "common", "onboarding", "status", "fix", "advice", "startup", "exposure", "proximity",
                 "contact", "positive", "error", "settings", "language", "qa", "mode", "notification")
L10N_REFERENCE = re.compile(r"(?<![\w$)\]])\.((?:" + "|".join(L10N_PREFIXES) + r")[A-Z]\w*)")


def check_swift() -> None:
    cases = set(l10n_keys())
    for path in sorted(list(APP.rglob("*.swift")) + list((HERE / "OpenZoneTests").rglob("*.swift"))):
        source = path.read_text(encoding="utf-8")
        check_brackets(path, source)
        for match in L10N_REFERENCE.finditer(source):
            if match.group(1) not in cases:
                problem(f"{path.relative_to(HERE)}: .{match.group(1)} is not an L10nKey case")
        if not source.startswith("//"):
            problem(f"{path.relative_to(HERE)}: no opening comment saying what the file is for")


def check_brackets(path: Path, source: str) -> None:
    """Brackets balance outside comments and strings (string interpolation included)."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []  # brackets, and "I" for an interpolation's "\("
    i, n, line = 0, len(source), 1

    def fail(text: str) -> None:
        problem(f"{path.relative_to(HERE)}:{line}: {text}")

    mode = ["code"]
    while i < n:
        c = source[i]
        if c == "\n":
            line += 1
        if mode[-1] == "code":
            if source.startswith("//", i):
                end = source.find("\n", i)
                i = n if end < 0 else end
                continue
            if source.startswith("/*", i):
                depth, j = 1, i + 2
                while j < n and depth:
                    if source.startswith("/*", j):
                        depth, j = depth + 1, j + 2
                    elif source.startswith("*/", j):
                        depth, j = depth - 1, j + 2
                    else:
                        if source[j] == "\n":
                            line += 1
                        j += 1
                i = j
                continue
            if source.startswith('"""', i):
                fail("multi-line string literals are not checked")
                return
            if c == '"':
                mode.append("string")
                i += 1
                continue
            if c in "([{":
                stack.append(c)
            elif c in ")]}":
                if stack and stack[-1] == "I" and c == ")":
                    stack.pop()
                    mode.pop()  # back into the string
                    i += 1
                    continue
                if not stack or stack[-1] != pairs[c]:
                    fail(f"unbalanced {c!r}")
                    return
                stack.pop()
            i += 1
        else:  # string
            if c == "\\":
                if source.startswith("\\(", i):
                    stack.append("I")
                    mode.append("code")
                    i += 2
                    continue
                i += 2
                continue
            if c == '"':
                mode.pop()
            elif c == "\n":
                fail("newline inside a string literal")
                return
            i += 1
    if stack or len(mode) != 1:
        fail(f"unclosed {''.join(stack) or 'string'} at the end")


def check_project() -> None:
    spec = yaml.safe_load((HERE / "project.yml").read_text(encoding="utf-8"))
    targets = spec.get("targets", {})
    app, tests = targets.get("OpenZone"), targets.get("OpenZoneTests")
    if not app or not tests:
        problem("project.yml: targets OpenZone and OpenZoneTests are both needed")
        return
    if spec["options"]["deploymentTarget"]["iOS"] != "15.0":
        problem("project.yml: the deployment target is iOS 15.0")
    if spec["options"].get("developmentLanguage") != "vi":
        problem("project.yml: Vietnamese is the development language")
    if spec["packages"]["OpenZoneCore"]["path"] != "OpenZoneCore" or not (HERE / "OpenZoneCore" / "Package.swift").exists():
        problem("project.yml: the OpenZoneCore package is ios/OpenZoneCore")
    for target in (app, tests):
        for source in target["sources"]:
            if not (HERE / source["path"]).is_dir():
                problem(f"project.yml: source folder {source['path']} is missing")
    if {"package": "OpenZoneCore"} not in app["dependencies"]:
        problem("project.yml: the app depends on the OpenZoneCore package")
    if tests["settings"]["base"].get("TEST_HOST") != "$(BUILT_PRODUCTS_DIR)/OpenZone.app/OpenZone":
        problem("project.yml: the tests are hosted by the app")
    properties = app["info"]["properties"]
    try:
        plist = plistlib.loads(plistlib.dumps(properties, fmt=plistlib.FMT_XML))
    except (TypeError, ValueError, OverflowError) as e:
        problem(f"project.yml: Info.plist properties do not make a plist: {e}")
        return
    if set(plist["UIBackgroundModes"]) != {"bluetooth-central", "bluetooth-peripheral", "fetch", "processing"}:
        problem(f"Info.plist: UIBackgroundModes is {plist['UIBackgroundModes']}")
    scheduler = (APP / "Background" / "SyncScheduler.swift").read_text(encoding="utf-8")
    identifiers = set(re.findall(r'static let \w+Identifier = "([^"]+)"', scheduler))
    if set(plist["BGTaskSchedulerPermittedIdentifiers"]) != identifiers or len(identifiers) != 2:
        problem(f"Info.plist: BGTaskSchedulerPermittedIdentifiers {plist['BGTaskSchedulerPermittedIdentifiers']} "
                f"vs SyncScheduler {sorted(identifiers)}")
    if not str(plist.get("NSBluetoothAlwaysUsageDescription", "")).strip():
        problem("Info.plist: NSBluetoothAlwaysUsageDescription is missing")
    sealing = plist.get("OpenZoneUploadSealingKeys")
    if not isinstance(sealing, list):
        problem("Info.plist: OpenZoneUploadSealingKeys is a list (empty: the key the server announces)")
    else:
        for key in sealing:
            try:
                if len(base64.b64decode(str(key).strip(), validate=True)) != 32:
                    problem(f"Info.plist: upload sealing key {key!r} is not 32 bytes")
            except (binascii.Error, ValueError):
                problem(f"Info.plist: upload sealing key {key!r} is not base64")
    if plist.get("CFBundleDevelopmentRegion") != "vi" or plist.get("CFBundleLocalizations") != ["vi", "en"]:
        problem("Info.plist: development region vi, localizations vi and en")
    for language in LANGUAGES:
        path = APP / "Resources" / f"{language}.lproj" / "InfoPlist.strings"
        try:
            for key in parse_strings(path):
                if key not in plist:
                    problem(f"{path.relative_to(HERE)}: {key} is not an Info.plist key")
        except (OSError, ValueError):
            pass  # reported by check_strings


def check_files() -> None:
    try:
        keys = json.loads((APP / "Resources" / "ExportKeys.json").read_text(encoding="utf-8"))
        if not isinstance(keys, list) or any(set(k) != {"keyId", "version", "pem"} for k in keys):
            problem("ExportKeys.json: an array of {keyId, version, pem}")
    except (OSError, ValueError) as e:
        problem(f"ExportKeys.json: {e}")
    result = subprocess.run(["bash", "-n", str(HERE / "build-xcframework.sh")], capture_output=True, text=True)
    if result.returncode != 0:
        problem(f"build-xcframework.sh: {result.stderr.strip()}")


def main() -> int:
    check_strings()
    check_swift()
    check_project()
    check_files()
    if problems:
        print("\n".join(problems))
        print(f"{len(problems)} problems")
        return 1
    swift = len(list(APP.rglob("*.swift"))) + len(list((HERE / "OpenZoneTests").rglob("*.swift")))
    print(f"ios/check.py: project.yml, {len(l10n_keys())} keys in vi and en, {swift} Swift files: all well-formed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
