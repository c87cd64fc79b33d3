package capture_test

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
)

// Write two packets as pcap and read them back one at a time, reusing one
// buffer.
func Example() {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	pkts := []capture.Packet{
		{Time: t0, Data: make([]byte, 60), WireLen: 60, Link: capture.LinkEthernet},
		{Time: t0.Add(time.Millisecond), Data: make([]byte, 54), WireLen: 1514, Link: capture.LinkEthernet},
	}
	var file bytes.Buffer
	if err := capture.Write(&file, pkts); err != nil {
		fmt.Println(err)
		return
	}
	r, err := capture.NewReader(&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]byte, 0, 2048)
	for {
		p, err := r.NextInto(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p.Time.Format(time.RFC3339Nano), len(p.Data), p.WireLen, p.Link)
		buf = p.Data
	}
	// Output:
	// 2024-01-02T03:04:05.000000006Z 60 60 ethernet
	// 2024-01-02T03:04:05.001000006Z 54 1514 ethernet
}

// From a capture file to flows: read each packet, make it an Ethernet
// frame whatever the file's link type, and parse its flow key, reusing
// one buffer for the packets and one for the converted frames.
func Example_flows() {
	pkts, _ := capture.Generate(capture.GenConfig{Flows: 20, Packets: 200, Seed: 7})
	var file bytes.Buffer
	capture.Write(&file, pkts)

	r, err := capture.NewReader(&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	packets := map[flow.Key]int{}
	var buf, conv []byte
	for {
		p, err := r.NextInto(buf)
		if err == io.EOF {
			break
		}
		if err != nil { // a damaged record (see RecordError) or a failed read
			fmt.Println(err)
			return
		}
		buf = p.Data
		frame, ok := p.Ethernet(conv)
		if !ok {
			continue // a link type without IP
		}
		if p.Link != capture.LinkEthernet {
			conv = frame
		}
		if info, err := flow.Parse(frame); err == nil {
			packets[info.Key]++
		}
	}
	fmt.Println(len(packets), "flows")
	// Output: 20 flows
}

// A raw IPv4 packet (link type 228) becomes an Ethernet frame.
func ExamplePacket_Ethernet() {
	p := capture.Packet{Data: []byte{0x45, 0x00, 0x00, 0x14}, Link: capture.LinkIPv4}
	frame, ok := p.Ethernet(nil)
	fmt.Println(ok, len(frame))
	fmt.Printf("% x\n", frame)
	// Output:
	// true 18
	// 00 00 00 00 00 00 00 00 00 00 00 00 08 00 45 00 00 14
}

// A damaged record: the packets before it are delivered with an error
// naming the record.
func ExampleRecordError() {
	var file bytes.Buffer
	capture.Write(&file, []capture.Packet{
		{Time: time.Unix(0, 0), Data: make([]byte, 60), Link: capture.LinkEthernet},
		{Time: time.Unix(1, 0), Data: make([]byte, 60), Link: capture.LinkEthernet},
	})
	r, _ := capture.NewReader(bytes.NewReader(file.Bytes()[:file.Len()-10]))
	for {
		_, err := r.Next()
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println("packet")
	}
	// Output:
	// packet
	// capture: record 2 at offset 100: truncated: packet data needs 60 bytes, 50 left
}

// Generate a small datacenter-like trace, then amplify it: three copies
// hold three times the flows.
func ExampleGenerate() {
	pkts, err := capture.Generate(capture.GenConfig{
		Flows: 100, Packets: 1000, FlowSizes: capture.WebSearch,
		IPv6Share: 0.2, UDPShare: 0.15, Seed: 42,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	more, err := capture.Amplify(pkts, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(pkts), countFlows(pkts))
	fmt.Println(len(more), countFlows(more))
	// Output:
	// 1000 100
	// 3000 300
}

func countFlows(pkts []capture.Packet) int {
	seen := map[flow.Key]bool{}
	for _, p := range pkts {
		if info, err := flow.Parse(p.Data); err == nil {
			seen[info.Key] = true
		}
	}
	return len(seen)
}

// The flow-size distributions of the datacenter papers, in packets.
func ExampleFlowSizes() {
	for _, d := range []capture.FlowSizes{capture.WebSearch, capture.DataMining} {
		fmt.Printf("%s: median %d packets, mean %.0f packets\n", d, d.Sample(0.5), d.Mean())
	}
	// Output:
	// web-search: median 48 packets, mean 1141 packets
	// data-mining: median 1 packets, mean 5117 packets
}
