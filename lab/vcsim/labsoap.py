"""A minimal vSphere SOAP client (Python 3 standard library only) for the lab's own tests.

It speaks plain SOAP over HTTPS, verified against the lab CA, so the tests check the
simulator and the harness on the wire, independently of ferry. Usage:

    import labsoap
    lab = labsoap.load()                  # lab.json of the running lab
    c = labsoap.Client(lab)
    c.login(lab["user"], lab["password"])
    vm = labsoap.vm(lab, "lab-multi")     # {"moref": ..., "disks": [...], ...}
    c.prop("VirtualMachine", vm["moref"], "config.hardware.numCPU").text
"""

import http.client
import json
import os
import ssl
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
VIM = "urn:vim25"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
N = {"s": SOAPENV, "v": VIM}


def state_dir():
    return os.path.join(os.environ.get("FERRY_LAB_DIR", "/var/lib/ferry-lab"), "vcsim")


def load():
    with open(os.path.join(state_dir(), "lab.json")) as f:
        return json.load(f)


def vm(lab, name):
    for v in lab["vms"]:
        if v["name"] == name:
            return v
    raise KeyError("no lab VM %r in lab.json" % name)


class Fault(Exception):
    def __init__(self, kind, string, status):
        super().__init__("%s: %s (HTTP %d)" % (kind, string, status))
        self.kind, self.string, self.status = kind, string, status


def moref(kind, value):
    return '<_this type="%s">%s</_this>' % (kind, escape(value))


def ref(tag, kind, value):
    return '<%s type="%s">%s</%s>' % (tag, kind, escape(value), tag)


def xsi_type(el):
    return el.get("{%s}type" % XSI)


class Client:
    def __init__(self, lab, cafile=None):
        self.lab = lab
        self.ctx = ssl.create_default_context(cafile=cafile or lab["ca"])
        self.host = "localhost"
        self.port = lab["port"]
        self.cookie = None

    def conn(self):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=120)

    def call(self, method, this_kind, this_value, body=""):
        """Invoke method; returns the response element (…Response) or raises Fault."""
        env = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<soapenv:Envelope xmlns:soapenv="%s" xmlns:xsi="%s"><soapenv:Body>'
               '<%s xmlns="urn:vim25">%s%s</%s></soapenv:Body></soapenv:Envelope>'
               % (SOAPENV, XSI, method, moref(this_kind, this_value), body, method))
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:vim25/7.0"'}
        if self.cookie:
            headers["Cookie"] = self.cookie
        c = self.conn()
        c.request("POST", "/sdk", env.encode(), headers)
        r = c.getresponse()
        data = r.read()
        sc = r.getheader("Set-Cookie")
        if sc and "vmware_soap_session" in sc:
            self.cookie = sc.split(";")[0]
        c.close()
        root = ET.fromstring(data)
        b = root.find("s:Body", N)
        fault = b.find("s:Fault", N)
        if fault is not None:
            detail = fault.find("detail")
            kind = "?"
            if detail is not None and len(detail):
                kind = xsi_type(detail[0]) or detail[0].tag.split("}")[-1]
            raise Fault(kind, fault.findtext("faultstring"), r.status)
        return b[0]

    def service_content(self):
        return self.call("RetrieveServiceContent", "ServiceInstance", "ServiceInstance").find("v:returnval", N)

    def login(self, user, password):
        sc = self.service_content()
        sm = sc.findtext("v:sessionManager", namespaces=N)
        self.pc = sc.findtext("v:propertyCollector", namespaces=N)
        return self.call("Login", "SessionManager", sm,
                         "<userName>%s</userName><password>%s</password>" % (escape(user), escape(password)))

    def props(self, kind, value, paths):
        """RetrievePropertiesEx of paths on one object: {path: element}."""
        if not hasattr(self, "pc"):
            self.pc = self.service_content().findtext("v:propertyCollector", namespaces=N)
        ps = "".join("<pathSet>%s</pathSet>" % p for p in paths)
        body = ('<specSet><propSet><type>%s</type>%s</propSet>'
                '<objectSet>%s</objectSet></specSet><options/>' % (kind, ps, ref("obj", kind, value)))
        res = self.call("RetrievePropertiesEx", "PropertyCollector", self.pc, body)
        out = {}
        for obj in res.findall("v:returnval/v:objects", N):
            for p in obj.findall("v:propSet", N):
                out[p.findtext("v:name", namespaces=N)] = p.find("v:val", N)
            for m in obj.findall("v:missingSet", N):
                raise Fault("MissingSet", m.findtext("v:path", namespaces=N), 200)
        return out

    def prop(self, kind, value, path):
        return self.props(kind, value, [path]).get(path)

    def wait_task(self, task, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            p = self.props("Task", task, ["info.state", "info.result", "info.error"])
            state = p["info.state"].text
            if state == "success":
                return p.get("info.result")
            if state == "error":
                err = p.get("info.error")
                kind = xsi_type(err.find("v:fault", N)) if err is not None else "?"
                raise Fault(kind, "task %s failed" % task, 200)
            time.sleep(0.2)
        raise TimeoutError("task %s" % task)

    def task(self, method, kind, value, body=""):
        t = self.call(method, kind, value, body).findtext("v:returnval", namespaces=N)
        return self.wait_task(t)

    def create_snapshot(self, vm_moref, name, memory=False, quiesce=False):
        r = self.task("CreateSnapshot_Task", "VirtualMachine", vm_moref,
                      "<name>%s</name><memory>%s</memory><quiesce>%s</quiesce>"
                      % (escape(name), str(memory).lower(), str(quiesce).lower()))
        return r.text

    def remove_snapshot(self, snap):
        self.task("RemoveSnapshot_Task", "VirtualMachineSnapshot", snap, "<removeChildren>false</removeChildren>")

    def disk_change_ids(self, kind, value):
        """{device key: backing.changeId} of a VM's or a snapshot's config."""
        dev = self.prop(kind, value, "config.hardware.device")
        out = {}
        for d in dev:
            if xsi_type(d) == "VirtualDisk":
                out[int(d.findtext("v:key", namespaces=N))] = d.findtext("v:backing/v:changeId", namespaces=N)
        return out

    def changed_areas(self, vm_moref, snapshot, key, start, change_id):
        body = (ref("snapshot", "VirtualMachineSnapshot", snapshot) if snapshot else "")
        body += "<deviceKey>%d</deviceKey><startOffset>%d</startOffset><changeId>%s</changeId>" % (
            key, start, escape(change_id))
        r = self.call("QueryChangedDiskAreas", "VirtualMachine", vm_moref, body).find("v:returnval", N)
        areas = [(int(a.findtext("v:start", namespaces=N)), int(a.findtext("v:length", namespaces=N)))
                 for a in r.findall("v:changedArea", N)]
        return int(r.findtext("v:startOffset", namespaces=N)), int(r.findtext("v:length", namespaces=N)), areas


def allocated_areas(path, capacity, block=64 << 10):
    """Runs of 64 KiB blocks of a file holding any non-zero byte (holes read as zeros)."""
    runs = []
    zero = bytes(block)
    with open(path, "rb") as f:
        fd = f.fileno()
        off = 0
        while off < capacity:
            try:
                data = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:
                break
            hole = min(os.lseek(fd, data, os.SEEK_HOLE), capacity)
            blk = data // block * block
            while blk < hole:
                f.seek(blk)
                b = f.read(block)
                if b and b != zero[:len(b)]:
                    n = min(block, capacity - blk)
                    if runs and runs[-1][0] + runs[-1][1] == blk:
                        runs[-1] = (runs[-1][0], runs[-1][1] + n)
                    else:
                        runs.append((blk, n))
                blk += block
            off = max((hole + block - 1) // block * block, data + block)
    return runs
