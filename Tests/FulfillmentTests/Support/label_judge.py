"""Outside judges for our labels: zplkit renders the ZPL, zxing-cpp decodes the barcodes.

  label_judge.py zpl FILE      -> JSON {labels, fields, barcodes}  (fields: ^FH-decoded ^FD texts)
  label_judge.py pgm FILE      -> JSON {barcodes}                   (a rasterized PDF page from pdftoppm -gray)
"""
import json
import sys


def decode_fh(data: bytes) -> str:
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i:i + 1] == b"_" and i + 2 < len(data) + 1:
            out.append(int(data[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(data[i])
            i += 1
    return out.decode("utf-8")


def barcodes(image):
    import zxingcpp
    found = zxingcpp.read_barcodes(image)
    return [{"format": str(b.format), "text": b.text, "symbology": b.symbology_identifier, "gs1": str(b.content_type) == "ContentType.GS1"}
            for b in found]


def zpl(path):
    import zplkit
    import zplkit._native as native
    raw = open(path, "rb").read()
    fields, hex_mode = [], False
    for element in native.parse(raw).elements:
        data = bytes(element.data)
        if data.startswith(b"^FH"):
            hex_mode = True
        elif data.startswith(b"^FD"):
            fields.append(decode_fh(data[3:]) if hex_mode else data[3:].decode("utf-8"))
            hex_mode = False
    result = {"fields": fields, "commands": [bytes(e.data)[:3].decode("latin-1") for e in native.parse(raw).elements]}
    try:
        document = zplkit.render(raw)
        result["labels"] = len(document.labels)
        found = []
        for label in document.labels:
            raster = label.rasterize()
            found += barcodes(memoryview(raster.pixels).cast("B", (raster.height, raster.width)))
        result["barcodes"] = found
    except Exception as error:  # zplkit's fonts lack umlauts: the caller renders ASCII labels only
        result["renderError"] = str(error)
    return result


def pgm(path):
    raw = open(path, "rb").read()
    parts = raw.split(b"\n", 3)
    assert parts[0] == b"P5", "not a binary PGM"
    width, height = map(int, parts[1].split())
    pixels = parts[3]
    return {"barcodes": barcodes(memoryview(pixels[: width * height]).cast("B", (height, width)))}


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    print(json.dumps(zpl(path) if kind == "zpl" else pgm(path)))
