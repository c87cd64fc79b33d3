package xdp_test

import (
	"errors"
	"fmt"
	"log"
	"net"
	"sync"
	"time"

	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/iblt/xdp"
)

// Two digests of the same traffic at two points on its path. XDP sees only
// the packets an interface receives, so each point must be an ingress
// point on the path: a router's input interface, the receiving end of a
// veth pair (for what a container sends, the host's end), the receiving
// host's interface. A digest attached to the sending host's own interface
// or its own veth end sees the replies, not the packets it sends. Each
// point's host loads the kernel with equal options and attaches it, and at
// the end of every period both flip their kernel (Kernel.FlipInto) at
// about the same time and one sends its table to the other
// (iblt.Table.MarshalBinary), which lists the packets lost in between,
// while traffic goes on. Here both are loaded on one host, for brevity:
// eth0 and eth1 stand for two ingress points, such as where the traffic
// enters a router and where it enters the next hop. (Needs BPF
// privileges, so it has no checked output.)
func Example() {
	o, err := xdp.OptionsFor(1000, 0.999, 0x5eed) // list up to 1,000 losses
	if err != nil {
		log.Fatal(err)
	}
	var kernels [2]*xdp.Kernel
	for i, name := range []string{"eth0", "eth1"} { // upstream, downstream ingress points
		k, err := xdp.Load(o)
		if err != nil {
			log.Fatal(err)
		}
		defer k.Close()
		iface, err := net.InterfaceByName(name)
		if err != nil {
			log.Fatal(err)
		}
		l, err := k.Attach(iface.Index)
		if err != nil {
			log.Fatal(err)
		}
		defer l.Close()
		kernels[i] = k
	}
	// The collector keeps its tables and its Loss from period to period:
	// FlipInto and LostInto reuse them and allocate nothing.
	tables := [2]*iblt.Table{iblt.MustNew(o.Params()), iblt.MustNew(o.Params())}
	var loss xdp.Loss
	for range 3 { // periods
		time.Sleep(10 * time.Second)
		// Both points flip at the same time: a Flip waits out an RCU
		// grace period, so one after the other would leave more packets
		// between them.
		var errs [2]error
		var wg sync.WaitGroup
		for i, k := range kernels {
			wg.Go(func() { errs[i] = k.FlipInto(tables[i]) })
		}
		wg.Wait()
		if err := errors.Join(errs[:]...); err != nil {
			log.Fatal(err)
		}
		// Packets between the points at the flips are listed as lost now
		// and as extra next period (or the other way round): a period's
		// list is final once the next one is known (see the package doc).
		if err := xdp.LostInto(tables[0], tables[1], &loss); err != nil {
			log.Fatal(err) // more losses than OptionsFor was given, or twins
		}
		fmt.Println(len(loss.Lost), "lost,", len(loss.Extra), "extra")
		for _, p := range loss.Lost {
			fmt.Println(p.Flow, p.ID, p.Bytes)
		}
	}
}

// udp4 returns an Ethernet frame of an IPv4/UDP datagram with IP
// identification id and a 4-byte payload.
func udp4(id uint16, payload [4]byte) []byte {
	return append([]byte{
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, // Ethernet
		0x45, 0, 0, 32, byte(id >> 8), byte(id), 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
		0x03, 0xe8, 0, 53, 0, 12, 0, 0, // UDP 1000 > 53, no checksum
	}, payload[:]...)
}

// The Go model of two digests: xdp.Digest computes the table the kernel
// would hold after a list of frames. Of ten datagrams sent, the downstream
// point saw all but the fourth and the seventh.
func ExampleLost() {
	o, err := xdp.OptionsFor(10, 0.999, 1)
	if err != nil {
		log.Fatal(err)
	}
	var sent, received [][]byte
	for i := range 10 {
		f := udp4(uint16(100+i), [4]byte{0, 0, 0, byte(i)})
		sent = append(sent, f)
		if i != 3 && i != 6 {
			received = append(received, f)
		}
	}
	up, err := xdp.Digest(o, sent)
	if err != nil {
		log.Fatal(err)
	}
	down, err := xdp.Digest(o, received)
	if err != nil {
		log.Fatal(err)
	}
	lost, extra, err := xdp.Lost(up, down)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(lost), "lost,", len(extra), "extra")
	for _, p := range lost {
		fmt.Printf("%v IP ID %d, %d bytes\n", p.Flow, p.ID&0xffff, p.Bytes)
	}
	// Unordered output:
	// 2 lost, 0 extra
	// 10.0.0.1:1000 > 10.0.0.2:53 udp IP ID 103, 46 bytes
	// 10.0.0.1:1000 > 10.0.0.2:53 udp IP ID 106, 46 bytes
}
