package main

// lab.json: the facts tests, ferry's lab dispatcher and guest-write read. Written atomically
// (mode 0600: it holds the lab password) when the harness is ready.

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

type labJSON struct {
	URL        string          `json:"url"`
	Host       string          `json:"host"`
	Port       int             `json:"port"`
	User       string          `json:"user"`
	Password   string          `json:"password"`
	Datacenter string          `json:"datacenter"`
	Cluster    string          `json:"cluster"`
	Thumbprint string          `json:"thumbprint"`
	CA         string          `json:"ca"`
	Datastore  json.RawMessage `json:"datastore"`
	Pattern    json.RawMessage `json:"pattern"`
	Portgroups []portgroupInfo `json:"portgroups"`
	VMs        []vmInfo        `json:"vms"`
	PID        int             `json:"pid"`
}

func (l *lab) writeLabJSON() error {
	host := "localhost"
	if l.port != 443 {
		host = fmt.Sprintf("localhost:%d", l.port)
	}
	ds, _ := json.Marshal(map[string]string{"name": dsName, "moref": l.inv.DatastoreMoref, "path": l.dsDir})
	pat, _ := json.Marshal(map[string]interface{}{
		"stride": stride, "cbt_block": cbtBlock,
		"description": "stride c of 4 MiB starts with <fill> bytes of splitmix64(seed=fnv1a64(\"<vm>/<disk index>/<c>\")), rest is a hole",
	})
	j := labJSON{URL: fmt.Sprintf("https://%s/sdk", host), Host: host, Port: l.port, User: l.user, Password: l.password,
		Datacenter: "DC0", Cluster: "DC0_C0", Thumbprint: l.thumbprint, CA: l.caFile, Datastore: ds, Pattern: pat,
		Portgroups: l.inv.Portgroups, VMs: l.inv.VMs, PID: os.Getpid()}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(l.state, "lab.json")
	if err := os.WriteFile(p+".tmp", append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(p+".tmp", p)
}

// guestWriteCmd: guest-write -state DIR VM DISK OFFSET LENGTH [SEED]
func guestWriteCmd(args []string) int {
	fs := flag.NewFlagSet("guest-write", flag.ExitOnError)
	state := fs.String("state", "", "state directory")
	_ = fs.Parse(args)
	a := fs.Args()
	if *state == "" || len(a) < 4 || len(a) > 5 {
		fmt.Fprintln(os.Stderr, "usage: guest-write -state DIR VM DISK OFFSET LENGTH [SEED]")
		return 2
	}
	var nums [4]int64
	nums[3] = 1
	for i, s := range a[1:] {
		n, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "guest-write: bad number %q\n", s)
			return 2
		}
		nums[i] = n
	}
	b, err := os.ReadFile(filepath.Join(*state, "lab.json"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "guest-write: %v (is the lab up?)\n", err)
		return 1
	}
	var j labJSON
	if err := json.Unmarshal(b, &j); err != nil {
		fmt.Fprintf(os.Stderr, "guest-write: lab.json: %v\n", err)
		return 1
	}
	for _, vm := range j.VMs {
		if vm.Name != a[0] {
			continue
		}
		if nums[0] < 0 || nums[0] >= int64(len(vm.Disks)) {
			fmt.Fprintf(os.Stderr, "guest-write: %s has %d disk(s), no disk %d\n", vm.Name, len(vm.Disks), nums[0])
			return 1
		}
		d := vm.Disks[nums[0]]
		if err := guestWrite(d.Flat, d.Capacity, nums[1], nums[2], uint64(nums[3])); err != nil {
			fmt.Fprintf(os.Stderr, "guest-write: %v\n", err)
			return 1
		}
		fmt.Printf("guest-write: %s disk %d (key %d, %s): wrote %d bytes at offset %d, seed %d\n",
			vm.Name, nums[0], d.Key, d.Flat, nums[2], nums[1], nums[3])
		return 0
	}
	fmt.Fprintf(os.Stderr, "guest-write: no lab VM %q\n", a[0])
	return 1
}
