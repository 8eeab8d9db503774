#!/usr/bin/python3
"""Seed the ferry lab's OpenStack (idempotent). Called by os-lab.

Usage: seed.py identity|resources
  identity   service users, catalog, project ferry-migration, user ferry
  resources  quotas, flavors, volume types, networks, security group,
             key pair, image, the conversion host server; writes lab.json
Settings come from the environment set by os-lab.
"""
import json
import os
import sys
import time

import openstack

STATE = os.environ["FERRY_LAB_OS_STATE_DIR"]
VOLUMES = os.environ["FERRY_LAB_VOLUMES"]
AUTH_URL = os.environ["LAB_AUTH_URL"]
REGION = os.environ["LAB_REGION"]
HOST = os.environ["LAB_HOST"]
SERVICE_PW = os.environ["LAB_SERVICE_PW"]
FERRY_PW = os.environ["LAB_FERRY_PW"]
ADMIN_PW = os.environ["LAB_ADMIN_PW"]

PROJECT = "ferry-migration"
USER = "ferry"
SERVICE_USERS = ["glance", "placement", "nova", "neutron", "cinder"]
CATALOG = [  # type, name, url
    ("compute", "nova", f"http://{HOST}:8774/v2.1"),
    ("image", "glance", f"http://{HOST}:9292"),
    ("placement", "placement", f"http://{HOST}:8778"),
    ("network", "neutron", f"http://{HOST}:9696"),
    ("volumev3", "cinderv3", f"http://{HOST}:8776/v3/%(project_id)s"),
    ("block-storage", "cinder", f"http://{HOST}:8776/v3/%(project_id)s"),
]
FLAVORS = {  # name: vcpus, ram MB, disk GB
    "lab.tiny": (1, 512, 1),
    "lab.small": (1, 1024, 10),
    "lab.medium": (2, 4096, 20),
    "lab.large": (4, 8192, 40),
    "lab.xlarge": (8, 16384, 80),
}
NETWORKS = {  # name: physical network, cidr (match the vSphere lab's port groups)
    "lab-vm-network": ("physnet-vm", "192.168.100.0/24", "VM Network"),
    "lab-dvpg": ("physnet-dvpg", "192.168.200.0/24", "DC0_DVPG0"),
}
VOLUME_TYPES = {  # name: vSphere datastore it stands for
    "lab-localds0": "LocalDS_0",
}
EXTERNAL = "lab-external"
EXTERNAL_CIDR = "10.99.0.0/24"
SG = "ferry-lab-sg"
KEYPAIR = "ferry-lab-key"
IMAGE = "lab-conversion-host-image"
SERVER = "ferry-conversion-host"


def say(msg):
    print(f"{time.strftime('%T')} seed: {msg}", file=sys.stderr, flush=True)


def admin_conn(project="admin"):
    return openstack.connect(
        auth_url=AUTH_URL, username="admin", password=ADMIN_PW,
        project_name=project, user_domain_name="Default",
        project_domain_name="Default", region_name=REGION,
        interface="public", identity_api_version="3")


def ferry_conn():
    return openstack.connect(
        auth_url=AUTH_URL, username=USER, password=FERRY_PW,
        project_name=PROJECT, user_domain_name="Default",
        project_domain_name="Default", region_name=REGION,
        interface="public", identity_api_version="3")


def wait_keystone(timeout=120):
    end = time.time() + timeout
    while True:
        try:
            c = admin_conn()
            c.identity.get_project(c.current_project_id)
            return c
        except Exception:
            if time.time() > end:
                raise
            time.sleep(0.5)


def seed_identity():
    c = wait_keystone()
    idn = c.identity
    dom = idn.find_domain("default") or idn.find_domain("Default")
    roles = {}
    for r in ("admin", "member", "reader", "service"):
        roles[r] = idn.find_role(r) or idn.create_role(name=r)
    projects = {}
    for p, desc in (("service", "OpenStack services"),
                    (PROJECT, "ferry migrations (lab)")):
        projects[p] = (idn.find_project(p, domain_id=dom.id) or
                       idn.create_project(name=p, domain_id=dom.id,
                                          description=desc))

    def user(name, password, project):
        u = idn.find_user(name, domain_id=dom.id)
        if u is None:
            u = idn.create_user(name=name, password=password,
                                domain_id=dom.id,
                                default_project_id=projects[project].id)
            say(f"user {name} created")
        elif os.environ.get("LAB_RESET_PASSWORDS") == "1":
            # (re)set: rehashes with the configured rounds; os-lab asks for
            # it only before the services that use these users start
            idn.update_user(u, password=password)
        return u

    def grant(u, project, role):
        # assign_project_role_to_user is idempotent in keystone (PUT)
        idn.assign_project_role_to_user(projects[project], u, roles[role])

    for name in SERVICE_USERS:
        u = user(name, SERVICE_PW, "service")
        grant(u, "service", "admin")
        grant(u, "service", "service")
    f = user(USER, FERRY_PW, PROJECT)
    grant(f, PROJECT, "member")
    grant(f, PROJECT, "reader")
    admin = idn.find_user("admin", domain_id=dom.id)
    grant(admin, PROJECT, "admin")

    services = {s.type: s for s in idn.services()}
    endpoints = list(idn.endpoints())
    for stype, sname, url in CATALOG:
        s = services.get(stype) or idn.create_service(
            name=sname, type=stype, description=f"{sname} (ferry lab)")
        for iface in ("public", "internal", "admin"):
            have = [e for e in endpoints
                    if e.service_id == s.id and e.interface == iface]
            if have and have[0].url == url:
                continue
            for e in have:
                idn.delete_endpoint(e)
            idn.create_endpoint(service_id=s.id, interface=iface, url=url,
                                region_id=REGION)
            say(f"endpoint {stype} {iface} {url}")


def ensure_keypair_files():
    priv = os.path.join(STATE, KEYPAIR)
    pub = priv + ".pub"
    if not (os.path.exists(priv) and os.path.exists(pub)):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
        k = ed25519.Ed25519PrivateKey.generate()
        old = os.umask(0o077)
        try:
            with open(priv, "wb") as fh:
                fh.write(k.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.OpenSSH,
                                         serialization.NoEncryption()))
            with open(pub, "wb") as fh:
                fh.write(k.public_key().public_bytes(
                    serialization.Encoding.OpenSSH,
                    serialization.PublicFormat.OpenSSH) + b" ferry-lab\n")
        finally:
            os.umask(old)
    with open(pub) as fh:
        return priv, fh.read().strip()


def wait_server(conn, server, timeout=120):
    end = time.time() + timeout
    while True:
        s = conn.compute.get_server(server.id)
        if s.status in ("ACTIVE", "ERROR"):
            return s
        if time.time() > end:
            raise RuntimeError(f"server {s.name} stuck in {s.status}")
        time.sleep(0.5)


def seed_resources():
    a = admin_conn()
    proj = a.identity.find_project(PROJECT, domain_id="default")
    f = ferry_conn()

    # quotas: generous
    a.set_compute_quotas(proj.id, instances=200, cores=1000, ram=4096000,
                         key_pairs=100, server_groups=50)
    a.set_volume_quotas(proj.id, volumes=500, gigabytes=100000,
                        snapshots=500, backups=100, backup_gigabytes=10000,
                        per_volume_gigabytes=-1)
    a.set_network_quotas(proj.id, network=100, subnet=200, port=1000,
                         router=20, floatingip=50, security_group=100,
                         security_group_rule=1000)

    flavors = {}
    for name, (vcpus, ram, disk) in FLAVORS.items():
        fl = a.compute.find_flavor(name, ignore_missing=True)
        if fl is None:
            fl = a.compute.create_flavor(name=name, vcpus=vcpus, ram=ram,
                                         disk=disk, is_public=True)
            say(f"flavor {name} created")
        flavors[name] = fl.id

    vtypes = {}
    for name, ds in VOLUME_TYPES.items():
        vt = a.block_storage.find_type(name, ignore_missing=True)
        if vt is None:
            vt = a.block_storage.create_type(
                name=name, description=f"vSphere datastore {ds} (ferry lab)",
                extra_specs={"volume_backend_name": "lab-nfs"})
            say(f"volume type {name} created")
        vtypes[name] = vt.id
    default_type = a.block_storage.find_type("__DEFAULT__", ignore_missing=True)
    if default_type is not None:
        vtypes["__DEFAULT__"] = default_type.id

    nets = {}
    for name, (physnet, cidr, pg) in NETWORKS.items():
        n = a.network.find_network(name, project_id=proj.id)
        if n is None:
            n = a.network.create_network(
                name=name, project_id=proj.id, shared=True,
                provider_network_type="flat",
                provider_physical_network=physnet,
                description=f"vSphere port group {pg} (ferry lab)")
            say(f"network {name} created")
        sn_name = name + "-subnet"
        sn = a.network.find_subnet(sn_name, network_id=n.id)
        if sn is None:
            sn = a.network.create_subnet(
                name=sn_name, network_id=n.id, project_id=proj.id,
                ip_version=4, cidr=cidr, enable_dhcp=False,
                gateway_ip=cidr.rsplit(".", 1)[0] + ".1")
            say(f"subnet {sn_name} created")
        nets[name] = {"id": n.id, "subnet_id": sn.id, "cidr": cidr,
                      "physical_network": physnet, "port_group": pg}

    # an external network, so routers get gateways and floating IPs exist
    ext = a.network.find_network(EXTERNAL)
    if ext is None:
        ext = a.network.create_network(
            name=EXTERNAL, is_router_external=True, shared=False,
            provider_network_type="flat",
            provider_physical_network="physnet-ext",
            description="external network for routers/floating IPs (ferry lab)")
        say(f"network {EXTERNAL} created")
    ext_sn = a.network.find_subnet(EXTERNAL + "-subnet", network_id=ext.id)
    if ext_sn is None:
        ext_sn = a.network.create_subnet(
            name=EXTERNAL + "-subnet", network_id=ext.id, ip_version=4,
            cidr=EXTERNAL_CIDR, enable_dhcp=False,
            gateway_ip=EXTERNAL_CIDR.rsplit(".", 1)[0] + ".1")
    nets_ext = {"id": ext.id, "subnet_id": ext_sn.id, "cidr": EXTERNAL_CIDR}

    sg = f.network.find_security_group(SG, project_id=proj.id)
    if sg is None:
        sg = f.network.create_security_group(
            name=SG, description="ferry lab: migrated VMs")
        for proto, port in (("tcp", 22), ("icmp", None)):
            kw = dict(security_group_id=sg.id, direction="ingress",
                      ethertype="IPv4", protocol=proto,
                      remote_ip_prefix="0.0.0.0/0")
            if port:
                kw.update(port_range_min=port, port_range_max=port)
            f.network.create_security_group_rule(**kw)
        say(f"security group {SG} created")

    priv, pub = ensure_keypair_files()
    kp = f.compute.find_keypair(KEYPAIR, ignore_missing=True)
    if kp is not None and kp.public_key.strip().split()[:2] != pub.split()[:2]:
        f.compute.delete_keypair(kp)
        kp = None
    if kp is None:
        f.compute.create_keypair(name=KEYPAIR, public_key=pub)
        say(f"key pair {KEYPAIR} created")

    img = a.image.find_image(IMAGE, ignore_missing=True)
    if img is not None and img.status != "active":
        a.image.delete_image(img)
        img = None
    if img is None:
        path = os.path.join(STATE, "conversion-host-image.raw")
        with open(path, "wb") as fh:
            fh.truncate(1024 * 1024)
        img = a.image.create_image(
            name=IMAGE, filename=path, disk_format="raw",
            container_format="bare", visibility="public", wait=True,
            allow_duplicates=True, validate_checksum=False)
        say(f"image {IMAGE} created")

    srv = f.compute.find_server(SERVER, ignore_missing=True)
    if srv is not None:
        srv = f.compute.get_server(srv.id)
        if srv.status == "ERROR":
            say(f"server {SERVER} in ERROR: recreating")
            f.compute.delete_server(srv)
            f.compute.wait_for_delete(srv, wait=60)
            srv = None
    if srv is None:
        srv = f.compute.create_server(
            name=SERVER, flavor_id=flavors["lab.small"], image_id=img.id,
            networks=[{"uuid": nets["lab-vm-network"]["id"]}],
            key_name=KEYPAIR, security_groups=[{"name": SG}],
            metadata={"ferry-lab": "conversion-host"})
        say(f"server {SERVER} created")
    srv = wait_server(f, srv)
    if srv.status != "ACTIVE":
        raise RuntimeError(f"server {SERVER} is {srv.status}: {srv.fault}")

    info = {
        "auth_url": AUTH_URL,
        "region": REGION,
        "interface": "public",
        "identity_api_version": 3,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
        "cloud": "ferry-lab",
        "admin_cloud": "ferry-lab-admin",
        "clouds_yaml": os.path.join(STATE, "clouds.yaml"),
        "project": {"name": PROJECT, "id": proj.id},
        "user": {"name": USER, "password": FERRY_PW},
        "admin": {"name": "admin", "password": ADMIN_PW,
                  "project": "admin"},
        "networks": nets,
        "external_network": nets_ext | {"name": EXTERNAL},
        "security_group": {"name": SG, "id": sg.id},
        "keypair": {"name": KEYPAIR, "public_key": pub,
                    "private_key_file": priv},
        "flavors": flavors,
        "volume_types": vtypes,
        "default_volume_type": "__DEFAULT__",
        "datastore_volume_types": {ds: n for n, ds in VOLUME_TYPES.items()},
        "image": {"name": IMAGE, "id": img.id},
        "conversion_host": {"name": SERVER, "id": srv.id},
        "volumes_dir": VOLUMES,
        "endpoints": {t: u for t, _, u in CATALOG} | {"identity": AUTH_URL},
    }
    path = os.path.join(STATE, "lab.json")
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(info, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.chmod(path + ".tmp", 0o600)
    os.replace(path + ".tmp", path)


def main():
    phase = sys.argv[1]
    if phase == "identity":
        seed_identity()
    elif phase == "resources":
        seed_resources()
    else:
        sys.exit(f"unknown phase {phase}")


if __name__ == "__main__":
    main()
