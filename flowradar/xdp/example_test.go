package xdp_test

import (
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/flowradar/xdp"
)

// A switch-side FlowRadar on eth0: the kernel encodes every packet, and
// once a second user space flips the epoch and decodes the frozen one, as
// a collector would after receiving it. (Needs BPF privileges, so it has
// no checked output.)
func Example() {
	p := flowradar.ParamsFor(50_000, 0x5eed) // flows expected per epoch
	k, err := xdp.Load(xdp.Options{Params: p})
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
	iface, err := net.InterfaceByName("eth0")
	if err != nil {
		log.Fatal(err)
	}
	l, err := k.Attach(iface.Index)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	t, err := flowradar.NewTable(p) // each epoch is read into it in turn
	if err != nil {
		log.Fatal(err)
	}
	var d flowradar.Decoded // and decoded into d, which keeps its memory
	for range 3 {
		time.Sleep(time.Second)
		// The epoch just ended, frozen in the kernel until the next Flip.
		if err := k.FlipInto(t); err != nil {
			log.Fatal(err)
		}
		err := t.DecodeInto(&d)
		if err != nil && !errors.Is(err, flowradar.ErrDecodeIncomplete) {
			log.Fatal(err) // ErrCorrupt: the table contradicts itself
		}
		// With ErrDecodeIncomplete alone (more flows than the table was
		// sized for), d holds the flows peeled and the cells left stuck.
		fmt.Printf("%d flows decoded, %d cells stuck\n", len(d.Flows), d.Stuck)
		for _, f := range d.Flows[:min(3, len(d.Flows))] {
			fmt.Println(f.Key, f.Packets, "packets")
		}
	}
}

// The Go model: xdp.Encode adds frames to a flowradar.Table exactly as the
// kernel does (the frame's length as its byte count), so a test or a
// simulator can produce the table a kernel would have exported.
func ExampleEncode() {
	t, err := flowradar.NewTable(flowradar.ParamsFor(1000, 1))
	if err != nil {
		log.Fatal(err)
	}
	frame := []byte{ // Ethernet, IPv4, UDP 10.0.0.1:1000 > 10.0.0.2:53, no payload
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x03, 0xe8, 0, 53, 0, 8, 0, 0,
	}
	outcomes := xdp.Encode(t, [][]byte{frame, frame, frame})
	d, err := t.Decode()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("parsed:", outcomes[0])
	for _, f := range d.Flows {
		fmt.Println(f.Key, f.Packets, "packets,", f.Bytes, "bytes")
	}
	// Output:
	// parsed: 3
	// 10.0.0.1:1000 > 10.0.0.2:53 udp 3 packets, 126 bytes
}
