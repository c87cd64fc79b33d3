package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
)

// TestMaglevSection_Shares: 500 flows of 1 to 4 packets over ten backends.
// Each share column sums to 100%; the Maglev packet share and the ring's
// flow share of each backend are those of a table and a ring of the same
// parameters; when the last backend leaves, the
// ring moves its flows and no others (consistent hashing), and Maglev
// moves at least those.
func TestMaglevSection_Shares(t *testing.T) {
	const flows = 500
	var frames [][]byte
	for p := range 4 {
		for i := range flows {
			if p <= i%4 {
				frames = append(frames, pkt.UDP4(fmt.Sprintf("10.2.%d.%d:4000", i>>8, i&255), "10.3.0.1:53", nil))
			}
		}
	}
	r, out := frameRun(13, frames...)
	if err := maglevSection(r); err != nil {
		t.Fatal(err)
	}
	sec := out.String()
	rows := regexp.MustCompile(`(?m)^(10\.1\.0\.\d+)\s+(\d+)\s+([0-9.]+)%\s+([0-9.]+)%\s+([0-9.]+)%$`).FindAllStringSubmatch(sec, -1)
	if len(rows) != 10 {
		t.Fatalf("%d backend rows, want 10:\n%s", len(rows), sec)
	}
	ring, err := maglev.NewRing(maglev.RingParams{VirtualNodes: maglev.DefaultVirtualNodes, Seed: r.Seed}, maglevBackends(10))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := maglev.New(maglev.Params{Size: maglev.DefaultSize, Seed: r.Seed}, maglevBackends(10))
	if err != nil {
		t.Fatal(err)
	}
	maglevPackets := map[string]int{}
	for _, k := range r.Keys() {
		i, ok := tb.Pick(k.Hash(r.Seed))
		if !ok {
			t.Fatal("the Maglev table picks no backend")
		}
		maglevPackets[tb.Backend(i).Name]++
	}
	ringFlows := map[string]int{}
	for _, k := range r.Flows() {
		i, ok := ring.Pick(k.Hash(r.Seed))
		if !ok {
			t.Fatal("the ring picks no backend")
		}
		ringFlows[ring.Backend(i).Name]++
	}
	var sums [3]float64
	share := map[string]string{}
	for _, m := range rows {
		for c := range sums {
			v, _ := strconv.ParseFloat(m[3+c], 64)
			sums[c] += v
		}
		share[m[1]] = m[3] + "%"
		if want := fmt.Sprintf("%.1f", 100*float64(maglevPackets[m[1]])/float64(len(r.Keys()))); m[4] != want {
			t.Errorf("%s: maglev packets %s%%, want %s%%", m[1], m[4], want)
		}
		if want := fmt.Sprintf("%.1f", 100*float64(ringFlows[m[1]])/flows); m[5] != want {
			t.Errorf("%s: ring flows %s%%, want %s%%", m[1], m[5], want)
		}
	}
	for c, name := range []string{"maglev flows", "maglev packets", "ring flows"} {
		if sums[c] < 99.5 || sums[c] > 100.5 {
			t.Errorf("%s shares sum to %.1f%%, want 100%%", name, sums[c])
		}
	}
	m := regexp.MustCompile(`(?m)^one backend leaves\s+10\.00%\s+(\S+)%\s+(\S+)%\s+(\S+)%$`).FindStringSubmatch(sec)
	if m == nil {
		t.Fatalf("no row for a backend leaving:\n%s", sec)
	}
	last := 100 * float64(ringFlows["10.1.0.10"]) / flows
	if got, _ := strconv.ParseFloat(m[3], 64); fmt.Sprintf("%.2f", got) != fmt.Sprintf("%.2f", last) {
		t.Errorf("ring flows moved %s%% when 10.1.0.10 leaves, want its share %.2f%%", m[3], last)
	}
	space, _ := strconv.ParseFloat(m[1], 64)
	moved, _ := strconv.ParseFloat(m[2], 64)
	lastMaglev, _ := strconv.ParseFloat(strings.TrimSuffix(share["10.1.0.10"], "%"), 64)
	if space < 10 || space > 15 || moved < lastMaglev-0.05 {
		t.Errorf("maglev moves %.2f%% of its hash space (want 10%% to 15%%) and %.2f%% of the flows (want at least 10.1.0.10's %.1f%%)", space, moved, lastMaglev)
	}
}
