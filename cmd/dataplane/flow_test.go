package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	flowxdp "github.com/dataplane-go/dataplane/flow/xdp"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernelFlowReport_ComparesEveryPacket: the flow section says the
// kernel "agrees with flow.Parse on every packet". The key-hash digest is
// a XOR, in which the two packets of a flow cancel: on a trace of
// two-packet flows it is 0 whatever the kernel's keys and hashes, so the
// claim must rest on comparing each packet's record with flow.Parse.
func TestKernelFlowReport_ComparesEveryPacket(t *testing.T) {
	kerneltest.Require(t)
	var out bytes.Buffer
	r := &Run{Seed: 3, Kernel: KernelOn, Quiet: true, out: &out}
	for p := 0; p < 2; p++ {
		for i := 0; i < 50; i++ {
			f := pkt.UDP4(fmt.Sprintf("10.2.0.%d:4000", i), "10.3.0.1:53", nil)
			info, err := flow.Parse(f)
			r.Frames = append(r.Frames, f)
			r.Parsed = append(r.Parsed, Parsed{Info: info, Err: err})
		}
	}
	if d := flowxdp.Digest(r.Frames, r.Seed); d != 0 {
		t.Fatalf("digest of two-packet flows %#x, want 0", d)
	}
	line, err := kernelFlowReport(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, "agrees with flow.Parse on every packet") || !strings.Contains(line, "100 packets compared one by one") {
		t.Errorf("kernel line does not say it compared every packet with flow.Parse:\n%s", line)
	}
}

// TestKernelFlowReport_SaysWhatItLeftOut: the kernel runs only frames of at
// least an Ethernet header (and at most kernelMaxFrames of them). When it
// ran fewer than the run's packets, the agreement line must not claim
// every packet: it must say how many of how many it compared, and why the
// others were left out.
func TestKernelFlowReport_SaysWhatItLeftOut(t *testing.T) {
	kerneltest.Require(t)
	var out bytes.Buffer
	r := &Run{Seed: 3, Kernel: KernelOn, Quiet: true, out: &out}
	frames := [][]byte{
		pkt.UDP4("10.2.0.1:4000", "10.3.0.1:53", nil),
		{1, 2, 3, 4, 5, 6, 7, 8}, // a runt: no Ethernet header
		pkt.UDP4("10.2.0.2:4000", "10.3.0.1:53", nil),
		pkt.UDP4("10.2.0.3:4000", "10.3.0.1:53", nil),
	}
	for _, f := range frames {
		info, err := flow.Parse(f)
		r.Frames = append(r.Frames, f)
		r.Parsed = append(r.Parsed, Parsed{Info: info, Err: err})
	}
	line, err := kernelFlowReport(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(line, "on every packet (") {
		t.Errorf("kernel line claims every packet, but the runt was not run:\n%s", line)
	}
	for _, want := range []string{"3 of the 4 packets compared one by one", "1 shorter than an Ethernet header"} {
		if !strings.Contains(line, want) {
			t.Errorf("kernel line lacks %q:\n%s", want, line)
		}
	}
}
