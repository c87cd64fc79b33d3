package xdp_test

import (
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flow/xdp"
)

// Print the flow key and hash of the packets arriving on eth0, as the
// kernel parsed and hashed them: the same key and hash as flow.Parse and
// flow.Key.Hash give in Go, so user space can index its own structures with
// the kernel's hash. (Needs BPF privileges, so it has no checked output.)
func Example() {
	k, err := xdp.Load(xdp.Options{Seed: 0x5eed, Events: true})
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
	for range 10 {
		e, err := k.NextEvent(time.Second)
		if errors.Is(err, xdp.ErrNoEvent) {
			continue
		} else if err != nil {
			log.Fatal(err)
		}
		if e.Outcome != flow.OutcomeOK {
			fmt.Println(e.FrameLen, "bytes:", e.Outcome)
			continue
		}
		fmt.Printf("%v hash %#016x\n", e.Info.Key, e.Hash)
	}
}

// Checking a whole trace in one number: the kernel XORs the hashes of
// every key it parsed (Stats.Digest); xdp.Digest computes the same from
// the frames in Go. Equal digests mean the kernel and package flow parsed
// and hashed every frame alike. Here, the Go side of that comparison.
func ExampleDigest() {
	frame := []byte{ // Ethernet, IPv4, UDP 10.0.0.1:1000 > 10.0.0.2:53
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x03, 0xe8, 0, 53, 0, 8, 0, 0,
	}
	info, err := flow.Parse(frame)
	if err != nil {
		log.Fatal(err)
	}
	one := xdp.Digest([][]byte{frame}, 7)
	fmt.Println(one == info.Key.Hash(7))
	fmt.Println(xdp.Digest([][]byte{frame, frame}, 7)) // a key seen twice cancels
	// Output:
	// true
	// 0
}
