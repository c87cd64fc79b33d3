package flowradar

import (
	"errors"
	"os"
	"slices"
	"strings"
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
	// The ends of [0, 1] are rates too: 1 drops every packet.
	k := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoUDP)
	sw := net.Path(&k, nil)[0]
	for _, rate := range []float64{0, 1} {
		if err := net.SetLoss(sw, rate); err != nil {
			t.Fatalf("SetLoss(%d, %v) = %v, want nil", sw, rate, err)
		}
		if got := net.Send(&k, 100); got != (rate == 0) {
			t.Fatalf("loss rate %v at the first switch of the path: Send = %v", rate, got)
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

// TestLeafSpine_Captures drives the simulator with every packet of the
// main captures (skipped without DATAPLANE_TRAFFIC_DIR): each flow placed
// on its path by ECMP hashing of its real 5-tuple, each packet counted
// with its frame length. Tables sized at 1.2 cells per flow of the busiest
// switch, below the single-decode threshold (1.295) and above where
// CounterDecode is exact (about 1.1): network-wide decoding finds
// every flow at exactly the switches of its path, with exact counts equal
// to the capture's packets and bytes and no loss. Then a spine drops 5%
// of what it forwards: the counts stay exact, the first switch of a path
// counts every packet, and counts fall only after the lossy spine (to
// zero, and the flow missing there, when it dropped all of a flow).
func TestLeafSpine_Captures(t *testing.T) {
	frames := captures.MainFrames(t)
	type packet struct {
		key  flow.Key
		size uint32
	}
	var pkts []packet
	tr := truth{}
	for _, f := range frames {
		info, err := flow.Parse(f)
		if err != nil {
			continue
		}
		pkts = append(pkts, packet{info.Key, uint32(len(f))})
		w := tr[info.Key]
		tr[info.Key] = [2]uint64{w[0] + 1, w[1] + uint64(len(f))}
	}
	probe, _ := NewLeafSpine(4, 2, ParamsFor(64, 1), 21)
	per := make([]int, 6)
	var path []int
	for k := range tr {
		for _, sw := range probe.Path(&k, path[:0]) {
			per[sw]++
		}
	}
	busiest := 0
	for j := range per {
		if per[j] > per[busiest] {
			busiest = j
		}
	}
	p := ParamsFor(len(tr), 1) // every filter sized for all the flows
	p.Cells = (uint32(1.2*float64(per[busiest])) + 3) / 4 * 4
	for _, lossy := range []int{-1, 5} {
		net, err := NewLeafSpine(4, 2, p, 21)
		if err != nil {
			t.Fatal(err)
		}
		if lossy >= 0 {
			if err := net.SetLoss(lossy, 0.05); err != nil {
				t.Fatal(err)
			}
		}
		for i := range pkts {
			net.Send(&pkts[i].key, pkts[i].size)
		}
		tabs := net.Flip()
		d, _ := tabs[busiest].Decode()
		nw, err := DecodeNetwork(tabs)
		t.Logf("lossy switch %d: %d packets, %d flows, per switch %v; single decode at switch %d: %d of %d flows; network-wide: %d flows, err %v",
			lossy, len(pkts), len(tr), per, busiest, len(d.Flows), per[busiest], len(nw.Flows), err)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Flows) == per[busiest] {
			t.Fatalf("single decode at the busiest switch found every flow: the load is too light for the test")
		}
		if len(nw.Flows) != len(tr) {
			t.Fatalf("network-wide decoding found %d flows, the captures have %d", len(nw.Flows), len(tr))
		}
		lossyFlows := 0
		for _, f := range nw.Flows {
			path = net.Path(&f.Key, path)
			at := map[int]Count{}
			for _, c := range f.Counts {
				if !c.Exact || !slices.Contains(path, c.Switch) {
					t.Fatalf("flow %v (path %v): count %+v inexact or off the path", f.Key, path, c)
				}
				at[c.Switch] = c
			}
			w := tr[f.Key]
			for i, sw := range path {
				c, ok := at[sw]
				if !ok && lossy >= 0 && slices.Contains(path[:i], lossy) {
					c, ok = Count{Switch: sw}, true // every packet dropped before
					at[sw] = c
				}
				switch {
				case !ok:
					t.Fatalf("flow %v: no count at switch %d of its path %v", f.Key, sw, path)
				case i == 0 || lossy < 0:
					if c.Packets != int64(w[0]) || c.Bytes != int64(w[1]) {
						t.Fatalf("flow %v at switch %d: %+v, the capture has %d packets, %d bytes", f.Key, sw, c, w[0], w[1])
					}
				default:
					prev := at[path[i-1]]
					if drop := prev.Packets - c.Packets; drop < 0 || drop > 0 && path[i-1] != lossy {
						t.Fatalf("flow %v: path %v, counts %v: a drop after switch %d, which loses nothing", f.Key, path, f.Counts, path[i-1])
					}
				}
			}
			if f.Loss() > 0 {
				lossyFlows++
			}
		}
		if (lossy < 0) != (lossyFlows == 0) {
			t.Errorf("lossy switch %d: %d flows show loss", lossy, lossyFlows)
		}
		for j := range tabs {
			if nw.Residual[j] != 0 || nw.Conflict[j] != 0 || nw.Mismatch[j] != 0 {
				t.Errorf("switch %d: residual %d, conflict %d, mismatch %d", j, nw.Residual[j], nw.Conflict[j], nw.Mismatch[j])
			}
		}
	}
}

// TestLeafSpine_SendInvalid: a packet of an invalid key has no path: it
// reaches no switch and is not reported delivered.
func TestLeafSpine_SendInvalid(t *testing.T) {
	net, err := NewLeafSpine(2, 1, paramsAt(100, 1.3, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	var bad flow.Key
	if net.Send(&bad, 100) {
		t.Error("Send of the zero (invalid) key reported the packet delivered")
	}
	for j, tb := range net.Flip() {
		for i, c := range tb.Cells() {
			if c != (Cell{}) {
				t.Fatalf("switch %d: cell %d holds %+v after a packet of an invalid key", j, i, c)
			}
		}
	}
}

// TestLeafSpine_Zero: the zero LeafSpine has no switch, so no flow has a
// path and Send delivers nothing; a nil key has no path either, in any
// network, and neither has any key in a LeafSpine whose counts do not
// match its switches (a literal, or fields changed after NewLeafSpine),
// where Send indexed switches it lacks. The zero LeafSpine's Path used to name switch 0, which it
// lacks, and Send then indexed its empty switch list; a nil key was
// dereferenced. A nil *LeafSpine, which panicked in every method, now
// behaves as the zero one.
func TestLeafSpine_Zero(t *testing.T) {
	k := flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoTCP)
	net, err := NewLeafSpine(2, 1, paramsAt(100, 1.3, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	var zero LeafSpine
	literal := &LeafSpine{Leaves: 2, Spines: 1}
	grown, err := NewLeafSpine(2, 1, paramsAt(100, 1.3, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	grown.Spines = 2
	emptied, err := NewLeafSpine(2, 1, paramsAt(100, 1.3, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	clear(emptied.Switches)
	added, err := NewLeafSpine(2, 1, paramsAt(100, 1.3, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	added.Switches = append(added.Switches, MustNew(paramsAt(100, 1.3, 2)))
	added.Spines = 2 // the counts match the switches, not their loss rates
	var nilNet *LeafSpine
	for _, c := range []struct {
		name string
		n    *LeafSpine
		k    *flow.Key
	}{
		{"zero LeafSpine", &zero, &k},
		{"nil key", net, nil},
		{"zero LeafSpine, nil key", &zero, nil},
		{"literal LeafSpine, no switches", literal, &k},
		{"LeafSpine with Spines changed", grown, &k},
		{"LeafSpine with nil switches", emptied, &k},
		{"LeafSpine with a switch added", added, &k},
		{"nil *LeafSpine", nilNet, &k},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic %v", c.name, r)
				}
			}()
			if p := c.n.Path(c.k, nil); len(p) != 0 && c.n != emptied {
				t.Errorf("%s: Path = %v, want none", c.name, p)
			}
			if c.n.Send(c.k, 100) {
				t.Errorf("%s: Send reported the packet delivered", c.name)
			}
		}()
	}
	if tbs := zero.Flip(); len(tbs) != 0 {
		t.Errorf("Flip of the zero LeafSpine: %d tables", len(tbs))
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("nil *LeafSpine: panic %v", r)
			}
		}()
		if tbs := nilNet.Flip(); len(tbs) != 0 {
			t.Errorf("Flip of a nil *LeafSpine: %d tables", len(tbs))
		}
		for _, n := range []*LeafSpine{&zero, nilNet} {
			if err := n.SetLoss(0, 0.5); !errors.Is(err, ErrParams) || !strings.Contains(err.Error(), "[0, 0)") {
				t.Errorf("SetLoss on %#v: %v, want ErrParams saying there is no switch", n, err)
			}
		}
	}()
	if tbs := emptied.Flip(); len(tbs) != 3 || tbs[0] != nil {
		t.Errorf("Flip of nil switches: %v, want 3 nil tables", tbs)
	}
	for j, tb := range net.Flip() {
		if tb.Flows() != 0 {
			t.Errorf("switch %d counted a packet of a nil key", j)
		}
	}
}

// TestLeafSpine_Reproducible: NewLeafSpine's promise that a seed makes
// runs reproducible: two networks of one seed, with the same loss, given
// the same packets, deliver the same packets and export equal tables;
// another seed places flows and drops packets differently.
func TestLeafSpine_Reproducible(t *testing.T) {
	keys := randomKeys(2000, 31)
	run := func(seed uint64) (delivered []bool, tabs []*Table, paths [][]int) {
		net, err := NewLeafSpine(4, 2, ParamsFor(2000, 1), seed)
		if err != nil {
			t.Fatal(err)
		}
		for sw := range net.Switches {
			if err := net.SetLoss(sw, 0.02); err != nil {
				t.Fatal(err)
			}
		}
		traffic(func(k *flow.Key, size uint32) bool {
			delivered = append(delivered, net.Send(k, size))
			return true
		}, keys, 5)
		for i := range keys {
			paths = append(paths, net.Path(&keys[i], nil))
		}
		return delivered, net.Flip(), paths
	}
	d1, t1, p1 := run(8)
	d2, t2, p2 := run(8)
	d3, t3, p3 := run(9)
	if !slices.Equal(d1, d2) {
		t.Error("same seed: different packets delivered")
	}
	for j := range t1 {
		if !t1[j].Equal(t2[j]) {
			t.Errorf("same seed: switch %d exports a different table", j)
		}
	}
	if !slices.EqualFunc(p1, p2, slices.Equal[[]int]) {
		t.Error("same seed: different paths")
	}
	if slices.Equal(d1, d3) || slices.EqualFunc(p1, p3, slices.Equal[[]int]) || t1[0].Equal(t3[0]) {
		t.Error("another seed: the same drops, paths or tables")
	}
}
