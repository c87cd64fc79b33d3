package xdp_test

import (
	"fmt"
	"log"
	"net"

	"github.com/cilium/ebpf/link"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/bloom/xdp"
	"github.com/dataplane-go/dataplane/flow"
)

// A blocklist of source addresses on eth0: packets from a listed source are
// dropped in the driver. (Needs BPF privileges, so it has no checked output.)
func Example() {
	p := bloom.ParamsFor(100_000, 0.001)
	p.Seed = 0x5eed
	f := bloom.MustNew(p)
	bad := flow.MustKey("198.51.100.7", "0.0.0.0", 0, 0, flow.ProtoTCP)
	f.Add(xdp.KeyBytes(&bad, xdp.KeySource)) // the 4 source-address bytes

	k, err := xdp.Load(xdp.Options{Params: p, Key: xdp.KeySource, Action: xdp.DropMembers})
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
	if err := k.WriteFilter(f); err != nil {
		log.Fatal(err)
	}
	iface, err := net.InterfaceByName("eth0")
	if err != nil {
		log.Fatal(err)
	}
	l, err := k.Attach(iface.Index)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	s, _ := k.Stats()
	fmt.Println("dropped so far:", s.Dropped)
}

// Learn mode: the kernel records every flow it sees; user space reads the
// filter back and estimates how many distinct flows passed.
func Example_learn() {
	p := bloom.BlockedParamsFor(1_000_000, 0.01)
	k, err := xdp.Load(xdp.Options{Params: p, Layout: xdp.Blocked, Learn: true})
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
	// ... attach, let traffic flow ...
	seen, err := k.Blocked()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("about %.0f distinct flows\n", seen.EstimatedCount())
}

// One data plane, two processes: a daemon loads the learning filter on a
// pinned path, attaches it and pins the link, so that the filter goes on
// learning after the daemon exits; a collector, run whenever, loads with
// the same options and reads what the kernel learnt; a new version of the
// daemon takes over the link without a gap. (Needs BPF privileges and a
// BPF file system at /sys/fs/bpf.)
func Example_pinned() {
	opts := xdp.Options{
		Params:  bloom.BlockedParamsFor(1_000_000, 0.01),
		Layout:  xdp.Blocked,
		Learn:   true,
		PinPath: "/sys/fs/bpf/flows-seen", // made beforehand with os.Mkdir
	}

	daemon := func() {
		k, err := xdp.Load(opts)
		if err != nil {
			log.Fatal(err)
		}
		defer k.Close() // the pins keep the maps, the pinned link the program
		iface, err := net.InterfaceByName("eth0")
		if err != nil {
			log.Fatal(err)
		}
		l, err := k.Attach(iface.Index)
		if err != nil {
			log.Fatal(err)
		}
		defer l.Close() // a pinned link stays attached after Close
		if err := l.Pin(opts.PinPath + "-link"); err != nil {
			log.Fatal(err)
		}
	}
	collector := func() {
		k, err := xdp.Load(opts) // the same options, or Load says which differ
		if err != nil {
			log.Fatal(err)
		}
		defer k.Close()
		seen, err := k.Blocked()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("about %.0f distinct flows\n", seen.EstimatedCount())
	}

	// A new version of the daemon swaps its program in under the pinned
	// link: packets go from the old program to the new with none missed,
	// and the new one goes on with the filter as it was.
	upgrade := func() {
		k, err := xdp.Load(opts)
		if err != nil {
			log.Fatal(err)
		}
		defer k.Close()
		l, err := link.LoadPinnedLink(opts.PinPath+"-link", nil)
		if err != nil {
			log.Fatal(err)
		}
		defer l.Close()
		if err := l.Update(k.Program()); err != nil {
			log.Fatal(err)
		}
	}

	daemon()
	collector()
	upgrade()
	// To take it all down: link.LoadPinnedLink and Unpin of the link,
	// then xdp.Unpin(opts.PinPath).
}

// KeyBytes gives the bytes the kernel hashes in each key mode: add them to
// the filter that the kernel will read.
func ExampleKeyBytes() {
	k := flow.MustKey("198.51.100.7", "203.0.113.1", 40000, 443, flow.ProtoTCP)
	fmt.Printf("%x\n", xdp.KeyBytes(&k, xdp.KeySource))
	fmt.Println(len(xdp.KeyBytes(&k, xdp.KeyFlow)))
	k6 := flow.MustKey("2001:db8::7", "2001:db8::1", 40000, 443, flow.ProtoTCP)
	fmt.Println(len(xdp.KeyBytes(&k6, xdp.KeySource)), len(xdp.KeyBytes(&k6, xdp.KeyFlow)))
	// Output:
	// c6336407
	// 13
	// 16 37
}
