#!/usr/bin/env python3
# Writes the seeds of the OpenStack fuzz targets (keystone, nova, cinder,
# neutron) in the answers format of fake-http.h:
#   python3 tests/fuzz/make-openstack-seeds.py tests/fuzz/corpus
# The answers follow the shapes of the OpenStack API reference.
import json, os, sys
root = sys.argv[1]
def rec(status, body, notoken=False):
    if not isinstance(body, str):
        body = json.dumps(body, separators=(", ", ": "))
    return "%d%s\n%s" % (status, " -" if notoken else "", body)
def write(target, name, records):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "w") as f:
        f.write("\n%%\n".join(records) + "\n")

PID = "0a8f4e2ac5c24e6b9d8f1e2a3b4c5d6e"
def ep(url, ifc="public", region="RegionOne", key="region_id"):
    return {"id": "e1", "interface": ifc, key: region, "url": url}
def catalog(extra=None):
    c = [
        {"type": "identity", "name": "keystone", "endpoints": [ep("https://keystone.example.com:5000/v3"), ep("http://10.0.0.5:5000/v3", "internal")]},
        {"type": "compute", "name": "nova", "endpoints": [ep("https://nova.example.com:8774/v2.1/")]},
        {"type": "volumev3", "name": "cinderv3", "endpoints": [ep("https://cinder.example.com:8776/v3/" + PID)]},
        {"type": "network", "name": "neutron", "endpoints": [ep("https://neutron.example.com:9696/")]},
        {"type": "image", "name": "glance", "endpoints": [ep("http://glance.example.com:9292")]},
    ]
    return c + (extra or [])
def token(cat=None, expires="2030-05-01T12:34:56.000000Z", project=True):
    t = {"methods": ["password"], "expires_at": expires, "issued_at": "2030-05-01T11:34:56.000000Z",
         "user": {"id": "5ea1cd8d0b9b4c12a7b1c0c8d7f1e001", "name": "ferry", "domain": {"id": "default", "name": "Default"}},
         "roles": [{"id": "r1", "name": "member"}],
         "catalog": catalog() if cat is None else cat}
    if project:
        t["project"] = {"id": PID, "name": "migration", "domain": {"id": "default", "name": "Default"}}
    return {"token": t}
version = {"version": {"id": "v2.1", "status": "CURRENT", "version": "2.93", "min_version": "2.1",
                       "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": "https://nova.example.com:8774/v2.1/"}]}}

# ---- Keystone: auth, reauth, then Nova's version document.
write("keystone", "password-token.txt", [rec(201, token()), rec(201, token(expires="2030-05-01T13:34:56Z")), rec(200, version)])
write("keystone", "unauthorized.txt", [rec(401, {"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}})])
write("keystone", "not-found-html.txt", [rec(404, "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p></body></html>")])
write("keystone", "no-subject-token.txt", [rec(201, token(), notoken=True)])
write("keystone", "unscoped.txt", [rec(201, token(project=False))])
write("keystone", "empty-catalog.txt", [rec(201, token(cat=[]))])
write("keystone", "regions-internal.txt", [
    rec(201, token(cat=[
        {"type": "compute", "endpoints": [ep("https://nova-internal:8774/v2.1", "internal"), ep("https://nova.r2:8774/v2.1", region="RegionTwo"), ep("https://nova.example.com:8774/v2.1", key="region")]},
        {"type": "block-storage", "endpoints": [ep("https://cinder.example.com/v3")]},
        {"type": "network", "endpoints": [ep("https://neutron.example.com:9696/v2.0")]},
        {"type": "image", "endpoints": [ep("https://glance.example.com/v2/")]},
        {"type": 7, "endpoints": "none"}, {"endpoints": [{}]}])),
    rec(503, "Service Unavailable"),
    rec(401, {"error": {"message": "The request you have made requires authentication."}}),
    rec(201, token(expires="not a date")), rec(200, version)])
write("keystone", "expiring-token.txt", [rec(201, token(expires="2000-01-01T00:00:00Z")), rec(201, token(expires="2000-01-01T00:00:00Z")), rec(201, token()), rec(200, {"version": {"version": None}})])

# ---- Nova
SRV = "9d3c6a38-2c1b-4b5e-8f4a-1d2e3f405162"
VOL = "5b3f2f5e-0000-4000-8000-000000000001"
flavor = {"id": "42", "name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80, "OS-FLV-EXT-DATA:ephemeral": 0,
          "os-flavor-access:is_public": True, "description": "made by ferry", "extra_specs": {"hw:cpu_policy": "shared"}}
server = {"id": SRV, "name": "web-1", "status": "BUILD", "OS-EXT-STS:task_state": "spawning",
          "addresses": {"private": [{"addr": "10.0.0.12", "version": 4, "OS-EXT-IPS-MAC:mac_addr": "00:50:56:01:02:03"}]},
          "metadata": {"ferry_vm": "web-1"}, "tags": ["ferry"], "flavor": {"original_name": "m1.large", "vcpus": 4}}
active = dict(server, status="ACTIVE")
errored = dict(server, status="ERROR", fault={"code": 500, "message": "No valid host was found. There are not enough hosts available.", "created": "2030-05-01T12:00:00Z"})
limits = {"limits": {"absolute": {"maxTotalCores": 20, "maxTotalInstances": 10, "maxTotalRAMSize": 51200, "totalCoresUsed": 4, "totalInstancesUsed": 1, "totalRAMUsed": 8192}, "rate": []}}
attach = {"id": VOL, "volumeId": VOL, "serverId": SRV, "device": "/dev/vdb", "tag": None, "delete_on_termination": False}
write("nova", "happy-path.txt", [
    rec(200, version),
    rec(200, {"flavors": [flavor], "flavors_links": [{"rel": "next", "href": "https://nova.example.com:8774/v2.1/flavors/detail?marker=42"}]}),
    rec(200, {"flavors": [dict(flavor, id="43", name="m1.small")]}),
    rec(200, {"flavor": flavor}),
    rec(200, {"server": active}),
    rec(200, {"servers": [active]}),
    rec(202, {"server": {"id": SRV, "links": [], "adminPass": "Gen3rat3d-pw", "security_groups": [{"name": "default"}]}}),
    rec(200, {"server": server}), rec(200, {"server": active}),
    rec(200, {"volumeAttachments": [attach]}),
    rec(200, {"volumeAttachment": attach}),
    rec(200, limits),
    rec(200, {"keypair": {"name": "ferry key", "public_key": "ssh-ed25519 AAAAC3Nza fuzz", "fingerprint": "aa:bb", "type": "ssh", "user_id": "u1"}}),
    rec(202, ""), rec(204, ""), rec(200, {"server": dict(active, status="DELETED")}), rec(404, {"itemNotFound": {"code": 404, "message": "Instance %s could not be found." % SRV}})])
write("nova", "errors.txt", [
    rec(404, {"itemNotFound": {"code": 404, "message": "The resource could not be found."}}),
    rec(403, {"forbidden": {"code": 403, "message": "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed."}}),
    rec(404, ""), rec(404, {"itemNotFound": {"code": 404, "message": "Instance could not be found."}}),
    rec(500, "<html><body><h1>500 Internal Server Error</h1>An unexpected error prevented the server from fulfilling your request.</body></html>"),
    rec(403, {"forbidden": {"code": 403, "message": "Quota exceeded for cores: Requested 4, but already used 18 of 20 cores"}}),
    rec(200, {"server": errored}),
    rec(200, {"volumeAttachments": "nope"}),
    rec(409, {"conflictingRequest": {"code": 409, "message": "Cannot 'attach_volume' instance %s while it is in task_state spawning" % SRV}}),
    rec(409, {"conflictingRequest": {"code": 409, "message": "Cannot 'attach_volume' instance while it is in task_state spawning"}}),
    rec(409, {"conflictingRequest": {"code": 409, "message": "Instance is locked, retry later"}}),
    rec(413, {"overLimit": {"code": 413, "message": "Maximum number of ports exceeded", "retryAfter": "0"}}),
    rec(401, {"error": {"message": "The request you have made requires authentication."}}), rec(401, "")])
write("nova", "odd-shapes.txt", [
    rec(200, {"version": {"version": "2"}}),
    rec(200, {"flavors": [], "flavors_links": [{"rel": "next", "href": "/v2.1/flavors/detail?marker=x"}]}),
    rec(200, {"flavor": None}), rec(200, "[]"), rec(200, "not json at all"), rec(200, {"servers": [1, "a", None]}),
    rec(202, {"server": []}), rec(200, {"server": {"status": None}}), rec(200, {"server": {"status": "ERROR", "fault": "oops", "name": 5}}),
    rec(200, {"volumeAttachments": [], "volumeAttachments_links": [{"rel": "next"}]}), rec(200, {}),
    rec(200, {"limits": {"absolute": []}}), rec(200, {"keypair": {"name": ["x"]}})])

# ---- Cinder
vol = {"id": VOL, "name": "web-1-disk-0", "status": "creating", "size": 20, "volume_type": "ceph", "bootable": "false",
       "availability_zone": "nova", "metadata": {"ferry_vm": "web-1", "ferry_disk": "0"}, "attachments": [],
       "os-vol-tenant-attr:tenant_id": PID}
avail = dict(vol, status="available")
quota_set = {"quota_set": {"id": PID, "volumes": {"limit": 10, "in_use": 2, "reserved": 0, "allocated": 0},
                           "gigabytes": {"limit": 1000, "in_use": 40, "reserved": 20, "allocated": 0},
                           "snapshots": {"limit": 10, "in_use": 0, "reserved": 0}}}
write("cinder", "happy-path.txt", [
    rec(200, {"volume": avail}),
    rec(200, {"volumes": [avail, dict(avail, id="x", name="other"), dict(avail, id="y", metadata={"ferry_vm": "db"})],
              "volumes_links": [{"rel": "next", "href": "https://cinder.example.com:8776/v3/%s/volumes/detail?marker=y" % PID}]}),
    rec(200, {"volumes": [dict(avail, metadata={"ferry_vm": "web-1", "ferry_disk": 0})]}),
    rec(202, {"volume": vol}), rec(200, {"volume": vol}), rec(200, {"volume": avail}), rec(200, ""),
    rec(200, {"volume": avail}),
    rec(200, {"volume_types": [{"id": "t1", "name": "ceph", "is_public": True, "extra_specs": {"volume_backend_name": "ceph"}}, {"id": "t2", "name": "__DEFAULT__"}]}),
    rec(200, {"snapshots": [{"id": "7e57a0b1-0000-4000-8000-000000000003", "volume_id": VOL, "status": "available", "size": 20, "name": "ferry-before-conversion"}]}),
    rec(200, {"snapshot": {"id": "7e57a0b1-0000-4000-8000-000000000003", "status": "creating"}}),
    rec(200, {"snapshot": {"id": "7e57a0b1-0000-4000-8000-000000000003", "status": "available"}}),
    rec(200, quota_set), rec(200, limits),
    rec(200, {"quota": {"port": {"limit": 50, "used": 3, "reserved": 0}, "network": {"limit": 10, "used": 1, "reserved": 0}}}),
    rec(202, ""), rec(200, {"volume": dict(avail, status="deleting")}), rec(404, {"itemNotFound": {"code": 404, "message": "Volume %s could not be found." % VOL}})])
write("cinder", "errors.txt", [
    rec(404, {"itemNotFound": {"code": 404, "message": "Volume could not be found."}}),
    rec(400, {"badRequest": {"code": 400, "message": "Invalid filter keys: metadata"}}),
    rec(413, {"overLimit": {"code": 413, "message": "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 20G, quota is 10G and 8G has been consumed.", "retryAfter": "0"}}),
    rec(200, {"volume": dict(vol, status="error")}),
    rec(200, {"messages": [{"id": "m1", "user_message": "schedule allocate volume:Could not find any available weighted backend.", "resource_uuid": VOL}]}),
    rec(413, {"overLimit": {"code": 413, "message": "Maximum number of volumes allowed (10) exceeded for quota 'volumes'."}}),
    rec(200, {"snapshots": {}}), rec(200, {"snapshot": {"status": "error"}}),
    rec(403, {"forbidden": {"message": "Policy doesn't allow volume_extension:quotas:show to be performed."}}),
    rec(200, {"limits": {"absolute": {"maxTotalCores": "20", "totalCoresUsed": None}}}),
    rec(409, {"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['port'].", "detail": ""}})])
write("cinder", "odd-shapes.txt", [
    rec(200, "null"), rec(200, {"volumes": [{"name": None, "metadata": []}, 3], "volumes_links": "next"}),
    rec(202, {"volume": {"id": None}}), rec(200, {"volume": {"status": 5}}), rec(200, {"volume": {"status": "error_restoring", "name": {"a": 1}}}), rec(200, {"messages": [{"user_message": 1}]}),
    rec(200, {"volume_types": None}),
    rec(200, {"quota_set": {"volumes": 10, "gigabytes": {"limit": "1000"}}}), rec(200, {"limits": None}), rec(200, {"quota": []})])

# ---- Neutron
NET = "81cc01d2-5e47-4fad-b387-32686ec71fa4"
net = {"id": NET, "name": "private", "status": "ACTIVE", "subnets": ["3b4f1f2e-0000-4000-8000-000000000004"], "mtu": 1450,
       "router:external": False, "shared": False, "provider:network_type": "vxlan", "tags": []}
subnet = {"id": "3b4f1f2e-0000-4000-8000-000000000004", "name": "private-subnet", "network_id": NET, "cidr": "10.0.0.0/24",
          "ip_version": 4, "gateway_ip": "10.0.0.1", "enable_dhcp": True, "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.254"}]}
sg = {"id": "ab7e2b1a-b9d3-4d31-9d2a-bab63f823243", "name": "default", "project_id": PID, "security_group_rules": []}
port = {"id": "c0ffee00-0000-4000-8000-000000000002", "name": "web-1-nic-0", "network_id": NET, "mac_address": "00:50:56:01:02:03",
        "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.0.0.12"}], "status": "DOWN", "device_owner": "", "tags": []}
write("neutron", "happy-path.txt", [
    rec(200, {"networks": [net]}), rec(200, {"subnets": [subnet]}),
    rec(200, {"network": net}), rec(200, {"subnets": [subnet], "subnets_links": [{"rel": "next", "href": "https://neutron.example.com:9696/v2.0/subnets?marker=x"}]}), rec(200, {"subnets": []}),
    rec(200, {"subnets": [subnet]}),
    rec(200, {"security_groups": [sg]}),
    rec(200, {"port": port}), rec(200, {"ports": [port]}),
    rec(201, {"port": port}), rec(200, {"tags": ["ferry", "vm:web-1"]}),
    rec(200, {"security_group_rules": [{"id": "r1", "direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22}]}),
    rec(200, {"quota": {"port": {"limit": 50, "used": 3, "reserved": 0}}}), rec(204, "")])
write("neutron", "not-found-ambiguous.txt", [
    rec(200, {"networks": []}),
    rec(404, {"NeutronError": {"type": "NetworkNotFound", "message": "Network %s could not be found." % NET, "detail": ""}}), rec(200, {"networks": [net, dict(net, id="n2")]}),
    rec(200, {"subnets": [dict(subnet, network_id="other")]}),
    rec(200, {"security_groups": [sg, sg]}),
    rec(404, {"NeutronError": {"type": "PortNotFound", "message": "Port could not be found."}}),
    rec(200, {"ports": []}),
    rec(409, {"NeutronError": {"type": "MacAddressInUse", "message": "Unable to complete operation for network %s. The mac address 00:50:56:01:02:03 is in use." % NET, "detail": ""}}),
    rec(409, {"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['port'].", "detail": ""}}),
    rec(500, {"NeutronError": {"message": "Request Failed: internal server error while processing your request."}}), rec(404, "")])
write("neutron", "odd-shapes.txt", [
    rec(200, {"networks": [{"id": 5}]}), rec(200, {"subnets": None}),
    rec(200, {"network": {}}), rec(200, {"subnets": [{}]}),
    rec(200, {"subnets": [{"id": "s", "network_id": None}]}),
    rec(200, {"security_groups": "all"}), rec(200, {"port": []}), rec(200, {"ports": {}}),
    rec(201, {"port": {"id": None}}), rec(200, ""), rec(200, {"security_group_rules": [None]}), rec(200, {"quota": "x"})])
