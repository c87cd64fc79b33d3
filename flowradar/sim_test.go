package flowradar

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	captures "github.com/dataplane-go/dataplane/internal/traffic"
)

// TestLeafSpine_NetworkDecode: a 4-leaf, 2-spine network loaded to about
// 1.15 cells per flow at the leaves, below the single-decode threshold of
// 1.295: single decode at the busiest switch recovers less than half of
// its flows, network-wide decoding recovers all of them, each at exactly
// the switches of its path, with exact counters (lossless network).
func TestLeafSpine_NetworkDecode(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 8000
	}
	net, err := NewLeafSpine(4, 2, paramsAt(n*2/4, 1.0, 1), 3)
	if err != nil {
		t.Fatal(err)
	}
	keys := randomKeys(n, 9)
	tr := traffic(net.Send, keys, 1)
	tabs := net.Flip()
	busiest := 0
	for j, tb := range tabs {
		if tb.Flows() > tabs[busiest].Flows() {
			busiest = j
		}
	}
	d, _ := tabs[busiest].Decode()
	if frac := float64(len(d.Flows)) / float64(tabs[busiest].Flows()); frac >= 0.5 {
		t.Fatalf("single decode at switch %d recovered %.2f of its flows; the test wants a load where it gets less than half", busiest, frac)
	}
	nw, err := DecodeNetwork(tabs)
	if err != nil {
		t.Fatal(err)
	}
	if len(nw.Flows) != n {
		t.Fatalf("network decode found %d flows, want %d", len(nw.Flows), n)
	}
	var path []int
	for _, f := range nw.Flows {
		path = net.Path(&f.Key, path)
		if len(f.Counts) != len(path) {
			t.Fatalf("flow %v found at %d switches, its path has %d", f.Key, len(f.Counts), len(path))
		}
		w := tr[f.Key]
		for _, c := range f.Counts {
			on := false
			for _, sw := range path {
				on = on || sw == c.Switch
			}
			if !on || c.Packets != int64(w[0]) || c.Bytes != int64(w[1]) || !c.Exact {
				t.Fatalf("flow %v at switch %d (path %v): %+v, want %d packets %d bytes", f.Key, c.Switch, path, c, w[0], w[1])
			}
		}
	}
	for j := range tabs {
		if nw.Residual[j] != 0 || nw.Mismatch[j] != 0 {
			t.Fatalf("switch %d: residual %d, mismatch %d", j, nw.Residual[j], nw.Mismatch[j])
		}
	}
}

// TestLeafSpine_Loss: one spine drops 5% of what it forwards. Counter
// decoding stays exact at every switch, and the switches of each flow
// disagree exactly after that spine: the count falls between it and the
// next switch, nowhere else.
func TestLeafSpine_Loss(t *testing.T) {
	n := 5000
	net, _ := NewLeafSpine(4, 2, paramsAt(n, 1.5, 2), 4)
	lossy := net.Leaves + 1
	if err := net.SetLoss(lossy, 0.05); err != nil {
		t.Fatal(err)
	}
	keys := randomKeys(n, 10)
	tr := traffic(net.Send, keys, 2)
	nw, err := DecodeNetwork(net.Flip())
	if err != nil {
		t.Fatal(err)
	}
	if len(nw.Flows) != n {
		t.Fatalf("decoded %d flows, want %d", len(nw.Flows), n)
	}
	lossyFlows := 0
	var path []int
	for _, f := range nw.Flows {
		path = net.Path(&f.Key, path)
		at := map[int]int64{}
		for _, c := range f.Counts {
			if !c.Exact {
				t.Fatalf("flow %v: inexact count at switch %d", f.Key, c.Switch)
			}
			at[c.Switch] = c.Packets
		}
		if at[path[0]] != int64(tr[f.Key][0]) {
			t.Fatalf("flow %v: first switch counted %d, sent %d", f.Key, at[path[0]], tr[f.Key][0])
		}
		for i := 1; i < len(path); i++ {
			drop := at[path[i-1]] - at[path[i]]
			if drop < 0 || (drop > 0 && path[i-1] != lossy) {
				t.Fatalf("flow %v: path %v counts %v: loss after switch %d, which drops nothing", f.Key, path, at, path[i-1])
			}
		}
		if f.Loss() > 0 {
			lossyFlows++
		}
	}
	if lossyFlows == 0 {
		t.Fatal("no flow shows the loss")
	}
}

func TestLeafSpine_Errors(t *testing.T) {
	if _, err := NewLeafSpine(0, 1, ParamsFor(10, 1), 1); !errors.Is(err, ErrParams) {
		t.Fatalf("got %v", err)
	}
	net, _ := NewLeafSpine(2, 1, ParamsFor(10, 1), 1)
	for _, tc := range []struct {
		sw   int
		rate float64
	}{{-1, 0}, {3, 0}, {0, -0.1}, {0, 1.5}} {
		if err := net.SetLoss(tc.sw, tc.rate); !errors.Is(err, ErrParams) {
			t.Fatalf("SetLoss(%d, %v) = %v", tc.sw, tc.rate, err)
		}
	}
}

// networkDecodeAt sends keys (flow i with 1+i%5 packets) through a 4-leaf,
// 2-spine network whose tables all have cpf cells per flow of the busiest
// switch, as BenchmarkFlowRadar_NetworkDecodeRate in bench/ does, and
// returns the fraction of flows DecodeNetwork finds, the number of counts
// marked exact (failing t on a wrong one) and the flows per switch.
func networkDecodeAt(t *testing.T, keys []flow.Key, cpf float64) (found float64, exact int, per []int) {
	t.Helper()
	probe, _ := NewLeafSpine(4, 2, ParamsFor(64, 1), 9)
	per = make([]int, 6)
	var path []int
	for i := range keys {
		for _, sw := range probe.Path(&keys[i], path[:0]) {
			per[sw]++
		}
	}
	p := ParamsFor(slices.Max(per), 1)
	p.Cells = (uint32(cpf*float64(slices.Max(per))) + 3) / 4 * 4
	p.FilterBits = ParamsFor(len(keys), 1).FilterBits
	net, _ := NewLeafSpine(4, 2, p, 9)
	tr := truth{}
	for i := range keys {
		n := uint64(1 + i%5)
		for range n {
			net.Send(&keys[i], 100)
		}
		tr[keys[i]] = [2]uint64{n, 100 * n}
	}
	nw, err := DecodeNetwork(net.Flip())
	if errors.Is(err, ErrCorrupt) {
		t.Fatalf("%.2f cells per flow: %v", cpf, err)
	}
	return float64(len(nw.Flows)) / float64(len(keys)), checkExact(t, nw, tr), per
}

// TestLeafSpine_NetworkDecodeSpread: how far network-wide decoding goes
// below the single-decode threshold depends on how evenly the flows spread
// over the switches (the figures of doc.go). With uniformly random
// addresses every switch carries about the same share (1e4 flows: 3692
// to 4395 per switch): at 0.8 cells per flow at the busiest switch every
// flow is found, at 0.6 almost none (2.5%), the switches all stalling
// together. The amplified captures put 7117 flows on one leaf and 1260 on
// another: the lightly loaded switches decode their flows and hand them to
// the busy ones, and 0.6 finds every flow.
func TestLeafSpine_NetworkDecodeSpread(t *testing.T) {
	n := 10000
	uniform := randomKeys(n, 5)
	for _, c := range []struct {
		cpf      float64
		min, max float64
	}{{0.6, 0, 0.1}, {0.8, 1, 1}} {
		got, exact, per := networkDecodeAt(t, uniform, c.cpf)
		t.Logf("uniform, %.2f cells per flow at the busiest switch (flows per switch %v): %.4f of flows found, %d exact counts", c.cpf, per, got, exact)
		if got < c.min || got > c.max {
			t.Errorf("uniform, %.2f cells per flow: %.4f of flows found, want [%v, %v]", c.cpf, got, c.min, c.max)
		}
	}
	if os.Getenv(captures.EnvDir) == "" {
		t.Skip(captures.EnvDir + " is not set: skipping the captures")
	}
	keys := captures.DistinctKeys(t, n)[:n]
	got, exact, per := networkDecodeAt(t, keys, 0.6)
	t.Logf("captures, 0.60 cells per flow at the busiest switch (flows per switch %v): %.4f of flows found, %d exact counts", per, got, exact)
	if got != 1 {
		t.Errorf("captures, 0.60 cells per flow: %.4f of flows found, want all", got)
	}
}
