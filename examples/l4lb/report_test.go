//go:build linux

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/maglev/xdp"
)

// TestReport_Counters: the kernel line adds up every pass and every drop
// counter, later fragments passed as unknown (PassFragMiss) and packets
// dropped for want of an outer source (DropNoSource) included.
func TestReport_Counters(t *testing.T) {
	res := Result{Backends: []string{"10.200.11.2"}, Answered: map[string]int{"10.200.11.2": 1}, Sent: 1,
		TableFrac: map[string]float64{"10.200.11.2": 1}}
	res.Stats.Counters = xdp.Counters{TX: 1, PassParse: 1, PassVLAN: 2, PassNotVIP: 4, PassFragMiss: 8,
		DropNoTable: 16, DropNoBackend: 32, DropTooBig: 64, DropEncap: 128, DropNoSource: 256, ICMPQuote: 1}
	var b bytes.Buffer
	report(&b, res)
	if want := "kernel: tx 1 (ICMP errors with the flow they quote 1), passed 15 (not a VIP 4), dropped 496\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("report ends\n%q\nwant\n%q", b.String(), want)
	}
}
