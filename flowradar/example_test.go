package flowradar_test

import (
	"fmt"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
)

// A switch encodes an epoch of traffic; the collector decodes every flow
// with its packet and byte counts.
func Example() {
	enc := flowradar.MustNew(flowradar.ParamsFor(1000, 42))
	dns := flow.MustKey("10.0.0.1", "10.0.0.2", 5353, 53, flow.ProtoUDP)
	web := flow.MustKey("2001:db8::1", "2001:db8::2", 40000, 443, flow.ProtoTCP)
	for i := 0; i < 3; i++ {
		enc.Add(&dns, 80)
	}
	enc.Add(&web, 1500)

	epoch := enc.Flip() // frozen; encoding goes on in the other table
	d, err := epoch.Decode()
	if err != nil {
		fmt.Println(err)
		return
	}
	got := map[flow.Key]flowradar.Flow{}
	for _, f := range d.Flows {
		got[f.Key] = f
	}
	fmt.Println("dns:", got[dns].Packets, "packets,", got[dns].Bytes, "bytes")
	fmt.Println("web:", got[web].Packets, "packets,", got[web].Bytes, "bytes")
	fmt.Println("flows:", len(d.Flows))
	// Output:
	// dns: 3 packets, 240 bytes
	// web: 1 packets, 1500 bytes
	// flows: 2
}

// A collector decodes epoch after epoch into one Decoded, which keeps its
// memory: after the first epoch, decoding allocates nothing. Each decode
// replaces the flows of the one before.
func ExampleTable_DecodeInto() {
	enc := flowradar.MustNew(flowradar.ParamsFor(1000, 42))
	var d flowradar.Decoded
	for epoch := 1; epoch <= 3; epoch++ {
		for port := range uint16(epoch) { // epoch n carries n flows
			k := flow.MustKey("10.0.0.1", "10.0.0.2", 1000+port, 53, flow.ProtoUDP)
			enc.Add(&k, 100)
		}
		if err := enc.Flip().DecodeInto(&d); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("epoch %d: %d flows, %d cells stuck\n", epoch, len(d.Flows), d.Stuck)
	}
	// Output:
	// epoch 1: 1 flows, 0 cells stuck
	// epoch 2: 2 flows, 0 cells stuck
	// epoch 3: 3 flows, 0 cells stuck
}

// Encode a batch of packets with one call, as a receive ring hands them
// over: the table ends as per-packet Adds leave it.
func ExampleEncoder_AddPackets() {
	enc := flowradar.MustNew(flowradar.ParamsFor(1000, 42))
	dns := flow.MustKey("10.0.0.1", "10.0.0.2", 5353, 53, flow.ProtoUDP)
	web := flow.MustKey("2001:db8::1", "2001:db8::2", 40000, 443, flow.ProtoTCP)
	batch := []flowradar.Packet{{Key: dns, Size: 80}, {Key: web, Size: 1500}, {Key: dns, Size: 80}}
	fmt.Println("new flows:", enc.AddPackets(batch))
	d, err := enc.Flip().Decode()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range d.Flows {
		if f.Key == dns {
			fmt.Println("dns:", f.Packets, "packets,", f.Bytes, "bytes")
		}
	}
	// Output:
	// new flows: 2
	// dns: 2 packets, 160 bytes
}

// Four leaves and two spines, each with a table of 2000 cells: the leaves
// (about 1750 flows each) cannot decode their tables alone, the spines
// (about 1500) can; the collector decodes all six together, and the spine that drops packets shows up as the place where
// a flow's counts fall.
func Example_network() {
	const flows = 4000
	p := flowradar.ParamsFor(flows/2, 1)
	p.Cells = 2000
	net, _ := flowradar.NewLeafSpine(4, 2, p, 7)
	net.SetLoss(5, 0.1) // spine 5 drops 10% of what it forwards
	for i := 0; i < flows; i++ {
		k := flow.KeyFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}, [4]byte{10, 1, byte(i), byte(i >> 8)}, 1000, 80, flow.ProtoTCP)
		for j := 0; j < 20; j++ {
			net.Send(&k, 100)
		}
	}
	tables := net.Flip()
	single := 0
	for _, t := range tables {
		if _, err := t.Decode(); err == nil {
			single++
		}
	}
	nw, err := flowradar.DecodeNetwork(tables)
	lossy, through5 := 0, 0
	for _, f := range nw.Flows {
		if f.Loss() > 0 {
			lossy++
			for _, c := range f.Counts {
				if c.Switch == 5 {
					through5++
				}
			}
		}
	}
	fmt.Println("tables decodable alone:", single, "of", len(tables))
	fmt.Println("flows decoded together:", len(nw.Flows), err)
	fmt.Println("flows with loss:", lossy > 0, "all through switch 5:", through5 == lossy)
	// Output:
	// tables decodable alone: 2 of 6
	// flows decoded together: 4000 <nil>
	// flows with loss: true all through switch 5: true
}

// A collector locates the switch that drops packets. Spine 4 of a
// 4-leaf, 2-spine network silently drops 1% of what it forwards. The
// collector knows each flow's path from the routing (here the
// simulator's ECMP), decodes the six switches' tables together, and asks
// for each flow where along its path its count falls.
func Example_locateLoss() {
	net, _ := flowradar.NewLeafSpine(4, 2, flowradar.ParamsFor(2000, 1), 3)
	net.SetLoss(4, 0.01)
	dropped := 0
	for i := 0; i < 3000; i++ {
		k := flow.KeyFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}, [4]byte{10, 1, byte(i), byte(i >> 8)}, 1000, 80, flow.ProtoTCP)
		for j := 0; j < 20; j++ {
			if !net.Send(&k, 100) {
				dropped++
			}
		}
	}

	nw, err := flowradar.DecodeNetwork(net.Flip())
	if err != nil {
		fmt.Println(err)
		return
	}
	lost := make([]int64, len(net.Switches)) // packets lost after each switch
	flows := make([]int, len(net.Switches))  // flows that lost them
	unknown := 0
	var path []int
	var hops []flowradar.Hop
	for i := range nw.Flows {
		path = net.Path(&nw.Flows[i].Key, path)
		hops, _ = nw.Hops(&nw.Flows[i], path, hops[:0])
		for _, h := range hops {
			switch h.State {
			case flowradar.HopLoss:
				lost[h.From] += h.Lost
				flows[h.From]++
			case flowradar.HopUnknown:
				unknown++
			}
		}
	}
	fmt.Println("packets the network dropped:", dropped)
	for sw := range lost {
		if lost[sw] > 0 {
			fmt.Printf("switch %d: %d packets lost after it, from %d flows\n", sw, lost[sw], flows[sw])
		}
	}
	fmt.Println("hops the counts cannot tell:", unknown)
	// Output:
	// packets the network dropped: 269
	// switch 4: 269 packets lost after it, from 238 flows
	// hops the counts cannot tell: 0
}
