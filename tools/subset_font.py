"""Write the course's CJK font, trpo_lite/fonts/TRPOCourseSansSC.otf, a subset of Noto Sans CJK SC.

Figures of the Chinese edition draw Chinese text; a font that installs with the package makes them render
on every OS with nothing installed by hand. The full face is about 16 MB, so the course ships a subset:
the 3,755 common characters of GB 2312 level 1 and its symbols, plus every character the Chinese
catalogs (trpo_lite/locale/zh/*.json) and the Chinese notebooks' code use. The family is renamed, as
the SIL Open Font License asks of a modified font; trpo_lite/fonts/OFL.txt carries the licence.

Usage (needs Debian's fonts-noto-cjk): python tools/subset_font.py
"""

import json
import re
import tempfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FACE = "Noto Sans CJK SC"
FAMILY = "TRPO Course Sans SC"
OUT = ROOT / "trpo_lite" / "fonts" / "TRPOCourseSansSC.otf"
LICENCE = Path("/usr/share/doc/fonts-noto-cjk/copyright")


def gb2312_common() -> set[str]:
    """GB 2312's symbol rows (0xA1-0xA9) and level-1 hanzi (0xB0-0xD7): what Chinese text uses most."""
    chars = set()
    for high in [*range(0xA1, 0xAA), *range(0xB0, 0xD8)]:
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def course_text() -> set[str]:
    """Every non-ASCII character of the Chinese catalogs and of the Chinese notebooks' code cells."""
    text = "".join(v for f in (ROOT / "trpo_lite" / "locale" / "zh").glob("*.json")
                   for v in json.loads(f.read_text(encoding="utf-8")).values())
    for notebook in (ROOT / "notebooks" / "zh").glob("*.ipynb"):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        text += "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return {c for c in text if ord(c) > 127}


def main() -> None:
    collection = TTCollection(SOURCE)
    (face,) = [f for f in collection.fonts if f["name"].getDebugName(1) == FACE]
    options = subset.Options()
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(gb2312_common() | course_text())))
    subsetter.subset(face)
    for record in face["name"].names:  # family, full and PostScript names: a modified font's own name
        if record.nameID in (1, 4, 16):
            record.string = FAMILY
        elif record.nameID == 6:
            record.string = FAMILY.replace(" ", "")
    with tempfile.TemporaryDirectory() as tmp:
        face.save(Path(tmp) / "font.otf")
        OUT.write_bytes((Path(tmp) / "font.otf").read_bytes())
    licence = LICENCE.read_text().split("License: SIL-1.1\n", 2)[2]
    licence = "\n".join(re.sub(r"^ \.?", "", line) for line in licence.splitlines()).split("\nLicense:")[0]
    header = (f"{OUT.name} is a subset of {FACE} (Noto CJK, https://github.com/notofonts/noto-cjk),\n"
              "Copyright 2014-2021 Adobe (http://www.adobe.com/), renamed as the licence asks of a modified\n"
              "font. It is licensed under the SIL Open Font License, Version 1.1:\n\n")
    (OUT.parent / "OFL.txt").write_text(header + licence.strip() + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB, {len(face.getGlyphOrder())} glyphs)")


if __name__ == "__main__":
    main()
