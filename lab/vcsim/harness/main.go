// ferry-vcsim: the vCenter half of ferry's test lab.
//
// It runs govmomi's simulator (vcsim 0.24, VPX model) with the lab inventory
// (inventory.go), real disk content in the datastore directory (disks.go),
// emulated Changed Block Tracking (cbt.go), ExportVm leases serving disk data
// (export.go) and lab-only credentials and certificate (auth.go). Methods that
// vcsim lacks are added by wrapping its HTTP handler (handler.go).
//
// Subcommands:
//
//	ferry-vcsim serve -state DIR [-port N] [-nfc-port N] [-extra-vms N]
//	ferry-vcsim guest-write -state DIR VM DISK OFFSET LENGTH [SEED]
//	ferry-vcsim nfc-read -state DIR [options] VM DISK   (nfc_read.go)
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
)

// lab holds the harness state shared by all concerns.
type lab struct {
	state      string // state directory (absolute)
	dsDir      string // directory backing datastore LocalDS_0
	port       int
	user       string
	password   string
	thumbprint string
	caFile     string
	client     *vim25.Client
	cbt        *cbtStore
	inner      httpHandler
	inv        *inventory
	throttle   *throttle
	faults     *faults
	nfc        *nfcServer
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ferry-vcsim serve|guest-write|nfc-read ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2:])
	case "guest-write":
		os.Exit(nfcGuestWriteCmd(os.Args[2:]))
	case "nfc-read":
		os.Exit(nfcReadCmd(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "ferry-vcsim: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	state := fs.String("state", "", "state directory")
	port := fs.Int("port", 443, "HTTPS port on 127.0.0.1")
	extra := fs.Int("extra-vms", 0, "number of extra small VMs lab-scale-NNNN")
	nfcPort := fs.Int("nfc-port", 902, "NFC (authd) port on 127.0.0.1")
	_ = fs.Parse(args)
	if *state == "" {
		log.Fatal("-state is required")
	}
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	st, err := filepath.Abs(*state)
	if err != nil {
		log.Fatal(err)
	}
	l := &lab{state: st, port: *port, dsDir: filepath.Join(st, "datastore"), throttle: newThrottle(st),
		faults: newFaults(st)}
	if err := os.MkdirAll(l.dsDir, 0o755); err != nil {
		log.Fatal(err)
	}
	// vcsim makes temporary directories (govcsim-*) for model datastores; keep any under the state dir.
	tmp := filepath.Join(st, "tmp")
	_ = os.MkdirAll(tmp, 0o700)
	os.Setenv("TMPDIR", tmp)

	if err := l.loadAuth(); err != nil {
		log.Fatal(err)
	}
	tlsConf, err := l.loadTLS()
	if err != nil {
		log.Fatal(err)
	}
	l.cbt, err = openCBT(filepath.Join(st, "cbt"))
	if err != nil {
		log.Fatal(err)
	}

	// vcsim's VPX model without its datastore and VMs: the lab creates LocalDS_0 on a fixed
	// directory (stable moref, stable path) and the VMs itself, through the simulator's API.
	model := simulator.VPX()
	model.Datastore = 0
	model.Machine = 0
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	model.Service.Listen = &url.URL{
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(l.port)),
		User: url.UserPassword(l.user, l.password),
	}
	model.Service.TLS = tlsConf

	l.startNFC(*nfcPort)

	ctx := context.Background()
	l.client, err = vim25.NewClient(ctx, model.Service)
	if err != nil {
		log.Fatal(err)
	}
	if err := l.buildInventory(ctx, *extra); err != nil {
		log.Fatalf("inventory: %v", err)
	}
	l.nfcInventoryReady()

	srv := model.Service.NewServer()
	srv.Config.Handler = l.wrap(srv.Config.Handler)
	log.Printf("listening on %s", srv.URL.Host)

	if err := l.writeLabJSON(); err != nil {
		log.Fatalf("lab.json: %v", err)
	}
	log.Printf("ready")

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	s := <-sig
	log.Printf("%s: shutting down", s)
	srv.Close()
	l.nfc.stop()
	l.removeExports()
	model.Remove()
	_ = os.RemoveAll(tmp)
	log.Printf("stopped")
}
