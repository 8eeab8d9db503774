#!/usr/bin/python3
"""An independent, minimal vSphere SOAP client (Python stdlib) used by the
tests to ask the simulator directly what ferry should have found.

  vsphere-props.py VMNAME      -> JSON {name, moref, numCPU, memoryMB, firmware,
                                  guestId, powerState, cbt, disks:[{key, capacity,
                                  file, mode}], nics:[{key, mac}]}
  vsphere-props.py --terminate-all   terminate every other session (needs the lab user)
  vsphere-props.py --set-cbt VMNAME true|false   turn CBT on or off (ReconfigVM), as an
                                  administrator would; lab state for tests
  vsphere-props.py --set-guest-id VMNAME ID   change the guest type (ReconfigVM guestId)
Connection facts come from the lab's environment (lab/lab env)."""
import json, os, ssl, sys, urllib.request
import xml.etree.ElementTree as ET

URL = os.environ["FERRY_LAB_VCENTER_URL"]
CTX = ssl.create_default_context(cafile=os.environ["FERRY_LAB_VCENTER_CA"])
NS = {"s": "http://schemas.xmlsoap.org/soap/envelope/", "v": "urn:vim25"}
XSI = "{http://www.w3.org/2001/XMLSchema-instance}type"
cookie = None

def call(method, this_type, this, args=""):
    global cookie
    body = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><s:Body>'
            f'<{method} xmlns="urn:vim25"><_this type="{this_type}">{this}</_this>{args}'
            f'</{method}></s:Body></s:Envelope>').encode()
    req = urllib.request.Request(URL, data=body, headers={
        "Content-Type": "text/xml", "SOAPAction": "urn:vim25/6.5"})
    if cookie:
        req.add_header("Cookie", cookie)
    with urllib.request.urlopen(req, context=CTX) as r:
        sc = r.headers.get("Set-Cookie")
        if sc:
            cookie = sc.split(";")[0]
        return ET.fromstring(r.read()).find("s:Body", NS)[0]

def login():
    call("Login", "SessionManager", "SessionManager",
         f"<userName>{os.environ['FERRY_LAB_VCENTER_USER']}</userName>"
         f"<password>{os.environ['FERRY_LAB_VCENTER_PASSWORD']}</password>")

def local(tag):
    return tag.split("}")[-1]

def vm_props(name):
    view = call("CreateContainerView", "ViewManager", "ViewManager",
                '<container type="Folder">group-d1</container><type>VirtualMachine</type>'
                '<recursive>true</recursive>').find("v:returnval", NS).text
    res = call("RetrievePropertiesEx", "PropertyCollector", "propertyCollector",
               '<specSet><propSet><type>VirtualMachine</type><pathSet>name</pathSet>'
               '<pathSet>config</pathSet><pathSet>runtime.powerState</pathSet></propSet>'
               f'<objectSet><obj type="ContainerView">{view}</obj><skip>true</skip>'
               '<selectSet xsi:type="TraversalSpec"><name>v</name><type>ContainerView</type>'
               '<path>view</path><skip>false</skip></selectSet></objectSet></specSet><options/>')
    for obj in res.iter("{urn:vim25}objects"):
        props = {p.find("v:name", NS).text: p.find("v:val", NS) for p in obj.findall("v:propSet", NS)}
        if props["name"].text != name:
            continue
        cfg = props["config"]
        hw = cfg.find("v:hardware", NS)
        out = {"name": name, "moref": obj.find("v:obj", NS).text,
               "numCPU": int(hw.find("v:numCPU", NS).text),
               "memoryMB": int(hw.find("v:memoryMB", NS).text),
               "firmware": cfg.findtext("v:firmware", "bios", NS),
               "guestId": cfg.findtext("v:guestId", None, NS),
               "cbt": cfg.findtext("v:changeTrackingEnabled", "false", NS) == "true",
               "powerState": props["runtime.powerState"].text, "disks": [], "nics": []}
        for d in hw.findall("v:device", NS):
            t = d.get(XSI, "").split(":")[-1]
            if t == "VirtualDisk":
                b = d.find("v:backing", NS)
                out["disks"].append({"key": int(d.findtext("v:key", None, NS)),
                                     "capacity": int(d.findtext("v:capacityInBytes", "0", NS)),
                                     "file": b.findtext("v:fileName", None, NS),
                                     "mode": b.findtext("v:diskMode", None, NS),
                                     "change_id": b.findtext("v:changeId", None, NS)})
            elif d.find("v:macAddress", NS) is not None:
                out["nics"].append({"key": int(d.findtext("v:key", None, NS)),
                                    "mac": d.findtext("v:macAddress", None, NS)})
        return out
    sys.exit(f"vsphere-props: no VM {name}")

login()
if sys.argv[1] == "--set-cbt":
    moref = vm_props(sys.argv[2])["moref"]
    call("ReconfigVM_Task", "VirtualMachine", moref,
         f"<spec><changeTrackingEnabled>{sys.argv[3]}</changeTrackingEnabled></spec>")
    print(sys.argv[3])
elif sys.argv[1] == "--set-guest-id":
    moref = vm_props(sys.argv[2])["moref"]
    call("ReconfigVM_Task", "VirtualMachine", moref, f"<spec><guestId>{sys.argv[3]}</guestId></spec>")
    print(vm_props(sys.argv[2])["guestId"])
elif sys.argv[1] == "--terminate-all":
    cur = call("RetrievePropertiesEx", "PropertyCollector", "propertyCollector",
               '<specSet><propSet><type>SessionManager</type><pathSet>sessionList</pathSet>'
               '<pathSet>currentSession</pathSet></propSet><objectSet><obj type="SessionManager">'
               'SessionManager</obj></objectSet></specSet><options/>')
    mine, keys = None, []
    for p in cur.iter("{urn:vim25}propSet"):
        if p.find("v:name", NS).text == "currentSession":
            mine = p.find("v:val", NS).findtext("v:key", None, NS)
        else:
            keys += [s.findtext("v:key", None, NS) for s in p.find("v:val", NS)]
    others = "".join(f"<sessionId>{k}</sessionId>" for k in keys if k != mine)
    if others:
        call("TerminateSession", "SessionManager", "SessionManager", others)
    print(len([k for k in keys if k != mine]))
else:
    print(json.dumps(vm_props(sys.argv[1])))
