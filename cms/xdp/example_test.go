package xdp_test

import (
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/cms/xdp"
	"github.com/dataplane-go/dataplane/flow"
)

// The lab's heavy-hitter detector on an interface: flows are dropped once
// their estimate reaches 1000 packets, and every dropped flow is named as
// it is detected. It needs privileges (and Linux), so it is compiled, not
// run.
func Example() {
	k, err := xdp.Load(xdp.Options{
		Params:    cms.LabParams(4096, 0x5eed), // d = 2 rows of 4096 counters
		Mode:      xdp.ModeDetect,
		Threshold: cms.DefaultThreshold, // the lab's 1000 packets
	})
	if err != nil {
		log.Fatal(err) // matches ebpf.ErrNotSupported off Linux
	}
	defer k.Close()
	ifc, err := net.InterfaceByName("eth0")
	if err != nil {
		log.Fatal(err)
	}
	l, err := k.Attach(ifc.Index)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	seen := map[flow.Key]bool{} // a flow is reported once per CPU, or again after losing its report slot
	for range 100 {
		e, err := k.NextEvent(time.Second)
		if errors.Is(err, xdp.ErrNoEvent) {
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		if !seen[e.Key] {
			seen[e.Key] = true
			// crossed: its packet reached the threshold; dropped: dropped
			// first, its counters filled by colliding flows
			fmt.Printf("%v: %v at %d packets (CPU %d)\n", e.Key, e.Report, e.Estimate, e.CPU)
		}
	}
	st, err := k.Stats()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Dropped, "packets dropped,", st.EventsLost, "events lost")
}

// Count every packet in the kernel and read the sketch back as a
// cms.Sketch, counter for counter what the Go sketch of the same packets
// holds.
func ExampleKernel_Sketch() {
	k, err := xdp.Load(xdp.Options{Params: cms.ParamsFor(0.001, 0.01), Mode: xdp.ModePerCPU})
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
	// ... attach k.Program(), or run frames through it with k.Run ...
	s, err := k.Sketch()
	if err != nil {
		log.Fatal(err)
	}
	web := flow.MustKey("10.0.0.1", "93.184.216.34", 40000, 443, flow.ProtoTCP)
	fmt.Println(s.Estimate(web.Bytes()), "of", s.Total(), "packets")
}

// Exact one-second intervals under traffic: with Epochs, each Flip ends
// the interval and returns its sketch, every packet of it counted in
// every row and none of the next interval's. It needs privileges (and
// Linux), so it is compiled, not run.
func ExampleKernel_Flip() {
	k, err := xdp.Load(xdp.Options{Params: cms.ParamsFor(0.001, 0.01), Mode: xdp.ModePerCPU, Epochs: true})
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
	ifc, err := net.InterfaceByName("eth0")
	if err != nil {
		log.Fatal(err)
	}
	l, err := k.Attach(ifc.Index)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	dns := flow.MustKey("10.0.0.1", "10.0.0.53", 40000, 53, flow.ProtoUDP)
	for range time.Tick(time.Second) {
		s, err := k.Flip()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s.Total(), "packets, of which at most", s.Estimate(dns.Bytes()), "DNS from 10.0.0.1")
	}
}

// The lab's detector in one-second intervals under traffic: with Epochs,
// each Flip starts a fresh interval (no counts, no flow reported) and
// returns the sketch of the one that ended, its passed packets. Flip waits
// for the packets still running in the old interval, so once it returns
// every report of that interval is in the ring; reports of the new one
// may follow them, and each names its epoch. It needs privileges (and
// Linux), so it is compiled, not run.
func ExampleKernel_Flip_detector() {
	k, err := xdp.Load(xdp.Options{Params: cms.LabParams(4096, 1), Mode: xdp.ModeDetect, Threshold: 1000, Epochs: true})
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
	ifc, err := net.InterfaceByName("eth0")
	if err != nil {
		log.Fatal(err)
	}
	l, err := k.Attach(ifc.Index)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	var early []xdp.Event // reports of the running interval, read before it ended
	for range time.Tick(time.Second) {
		ended, err := k.Flip()
		if err != nil {
			log.Fatal(err)
		}
		current, err := k.Epoch()
		if err != nil {
			log.Fatal(err)
		}
		events, err := k.Events()
		if err != nil {
			log.Fatal(err)
		}
		heavy := early // the interval that ended
		early = nil
		for _, e := range events {
			if e.Epoch == current {
				early = append(early, e)
			} else {
				heavy = append(heavy, e)
			}
		}
		fmt.Println(ended.Total(), "packets passed;", len(xdp.HeavyFlows(heavy)), "flows detected")
	}
}

// The detector names a flow once per CPU that drops it, and again after
// another flow took its report slot; HeavyFlows lists each flow once, in
// the order of its first report (here, events as Kernel.Events returns
// them).
func ExampleHeavyFlows() {
	a := flow.MustKey("10.0.0.1", "10.0.0.2", 40000, 443, flow.ProtoTCP)
	b := flow.MustKey("10.0.0.3", "10.0.0.4", 5353, 53, flow.ProtoUDP)
	events := []xdp.Event{
		{Key: a, Estimate: 1000, CPU: 0, Report: cms.ReportCrossed},
		{Key: b, Estimate: 1000, CPU: 1, Report: cms.ReportCrossed},
		{Key: a, Estimate: 1000, CPU: 1, Report: cms.ReportCrossed},
	}
	for _, k := range xdp.HeavyFlows(events) {
		fmt.Println(k)
	}
	// Output:
	// 10.0.0.1:40000 > 10.0.0.2:443 tcp
	// 10.0.0.3:5353 > 10.0.0.4:53 udp
}
