package flowradar

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// TestNetwork_Hops: the rules of Hops on hand-made reports, switch by
// switch: exact counts compared, estimates unknown, a missing count 0 at
// a clean switch and unknown elsewhere, counts off the path ignored.
func TestNetwork_Hops(t *testing.T) {
	// Six switches: 0, 1 and 2 decoded cleanly, 3 left stuck cells, 4
	// has an inconsistent cell, 5 a conflicting one.
	nw := &Network{
		Stuck:    []int{0, 0, 0, 2, 0, 0},
		Residual: []int64{0, 0, 0, 0, 0, 3},
		Conflict: []int{0, 0, 0, 0, 0, 1},
		Mismatch: []int{0, 0, 0, 0, 1, 0},
	}
	ex := func(sw int, p int64) Count { return Count{Switch: sw, Packets: p, Bytes: 100 * p, Exact: true} }
	est := func(sw int, p int64) Count { return Count{Switch: sw, Packets: p, Bytes: 100 * p} }
	for _, tc := range []struct {
		name   string
		counts []Count
		path   []int
		want   []Hop
	}{
		{"no loss", []Count{ex(0, 9), ex(1, 9), ex(2, 9)}, []int{0, 1, 2},
			[]Hop{{0, 1, HopNoLoss, 0}, {1, 2, HopNoLoss, 0}}},
		{"loss after the middle switch", []Count{ex(0, 9), ex(1, 9), ex(2, 6)}, []int{0, 1, 2},
			[]Hop{{0, 1, HopNoLoss, 0}, {1, 2, HopLoss, 3}}},
		{"path in another order than the switches", []Count{ex(0, 6), ex(1, 9), ex(2, 9)}, []int{2, 1, 0},
			[]Hop{{2, 1, HopNoLoss, 0}, {1, 0, HopLoss, 3}}},
		{"an estimate", []Count{ex(0, 9), est(1, 8), ex(2, 8)}, []int{0, 1, 2},
			[]Hop{{0, 1, HopUnknown, 0}, {1, 2, HopUnknown, 0}}},
		{"every packet dropped after the first switch", []Count{ex(0, 9)}, []int{0, 1, 2},
			[]Hop{{0, 1, HopLoss, 9}, {1, 2, HopNoLoss, 0}}},
		{"missing at a switch with stuck cells", []Count{ex(0, 9), ex(1, 9)}, []int{0, 1, 3},
			[]Hop{{0, 1, HopNoLoss, 0}, {1, 3, HopUnknown, 0}}},
		{"missing at a switch with an inconsistent cell", []Count{ex(0, 9)}, []int{0, 4},
			[]Hop{{0, 4, HopUnknown, 0}}},
		{"missing at a switch with a conflicting cell", []Count{ex(0, 9)}, []int{0, 5},
			[]Hop{{0, 5, HopUnknown, 0}}},
		{"exact count at a switch with stuck cells", []Count{ex(0, 9), ex(3, 4)}, []int{0, 3},
			[]Hop{{0, 3, HopLoss, 5}}},
		{"gain", []Count{ex(0, 5), ex(1, 9)}, []int{0, 1},
			[]Hop{{0, 1, HopGain, 0}}},
		{"count off the path ignored", []Count{ex(0, 9), ex(1, 2), ex(2, 9)}, []int{0, 2},
			[]Hop{{0, 2, HopNoLoss, 0}}},
		{"one switch", []Count{ex(0, 9)}, []int{0}, nil},
		{"no path", []Count{ex(0, 9)}, nil, nil},
	} {
		f := &FlowReport{Key: flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoUDP), Counts: tc.counts}
		prefix := []Hop{{From: 7, To: 8, State: HopLoss, Lost: 1}} // out is appended to
		got, err := nw.Hops(f, tc.path, prefix)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got[0] != prefix[0] || !slices.Equal(got[1:], tc.want) {
			t.Errorf("%s: Hops(%+v, path %v) = %+v, want %+v after the prefix", tc.name, tc.counts, tc.path, got, tc.want)
		}
	}
}

func TestNetwork_HopsErrors(t *testing.T) {
	nw := &Network{Stuck: []int{0, 0, 0}, Residual: []int64{0, 0, 0}, Conflict: []int{0, 0, 0}, Mismatch: []int{0, 0, 0}}
	f := &FlowReport{Counts: []Count{{Switch: 0, Packets: 3, Exact: true}, {Switch: 0, Packets: 2, Exact: true}}}
	g := &FlowReport{Counts: []Count{{Switch: 0, Packets: 3, Exact: true}}}
	for _, tc := range []struct {
		name string
		nw   *Network
		f    *FlowReport
		path []int
		want string
	}{
		{"nil flow", nw, nil, []int{0, 1}, "the network or the flow report is nil"},
		{"nil network", nil, g, []int{0, 1}, "the network or the flow report is nil"},
		{"negative switch", nw, g, []int{0, -1}, "switch -1 at position 1 of the path, want a switch in [0, 3)"},
		{"switch out of range", nw, g, []int{3, 0}, "switch 3 at position 0 of the path, want a switch in [0, 3)"},
		{"zero network", &Network{}, g, []int{0}, "want a switch in [0, 0)"},
		{"loop", nw, g, []int{0, 1, 0}, "the path visits switch 0 twice"},
		{"two counts at a switch", nw, f, []int{1, 0}, "two counts at switch 0"},
	} {
		out := []Hop{{From: 1, To: 2}}
		got, err := tc.nw.Hops(tc.f, tc.path, out)
		if !errors.Is(err, ErrParams) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "flowradar: ") {
			t.Errorf("%s: got %v, want ErrParams saying %q", tc.name, err, tc.want)
		}
		if !slices.Equal(got, out) {
			t.Errorf("%s: out changed to %+v", tc.name, got)
		}
	}
	if (HopState(9)).String() != "HopState(9)" || HopLoss.String() != "loss" || HopUnknown.String() != "unknown" ||
		HopNoLoss.String() != "no loss" || HopGain.String() != "gain" {
		t.Error("HopState.String")
	}
}

// hopsCase runs flows through a 4-leaf, 2-spine network in which switch
// lossy (-1: none) drops a fraction of what it forwards, tables of cpf
// cells per flow of the busiest switch, and checks Hops on every flow
// against the drops the simulator made. Every hop Hops calls lossless or
// lossy must be right; a flow whose counts on its path are all known
// (exact, or missing at a clean switch) must get no unknown hop: a loss
// at the lossy switch's hop, if the flow lost packets there and the
// switch is not the last of its path, and no loss everywhere else.
func hopsCase(t *testing.T, n int, cpf float64, lossy int, rate float64) (st hopsStats) {
	t.Helper()
	keys := randomKeys(n, 31)
	probe, _ := NewLeafSpine(4, 2, ParamsFor(64, 1), 17)
	per := make([]int, 6)
	var path []int
	for i := range keys {
		for _, sw := range probe.Path(&keys[i], path[:0]) {
			per[sw]++
		}
	}
	p := paramsAt(slices.Max(per), cpf, 17)
	p.FilterBits = paramsAt(n, 1, 17).FilterBits // every filter sized for all the flows
	net, err := NewLeafSpine(4, 2, p, 17)
	if err != nil {
		t.Fatal(err)
	}
	if lossy >= 0 {
		if err := net.SetLoss(lossy, rate); err != nil {
			t.Fatal(err)
		}
	}
	drops := map[flow.Key]int64{} // all at the lossy switch
	sent := traffic(func(k *flow.Key, size uint32) bool {
		if !net.Send(k, size) {
			drops[*k]++
		}
		return true
	}, keys, 19)
	nw, err := DecodeNetwork(net.Flip())
	if err != nil {
		t.Fatal(err)
	}
	if len(nw.Flows) != n {
		t.Fatalf("decoded %d flows of %d", len(nw.Flows), n)
	}
	var hops []Hop
	for i := range nw.Flows {
		f := &nw.Flows[i]
		path = net.Path(&f.Key, path)
		hops, err = nw.Hops(f, path, hops[:0])
		if err != nil {
			t.Fatal(err)
		}
		if len(hops) != len(path)-1 {
			t.Fatalf("flow %v: %d hops for path %v", f.Key, len(hops), path)
		}
		// Where the loss shows: after the lossy switch, if a switch
		// follows it on this path.
		at := slices.Index(path, lossy)
		visible := drops[f.Key] > 0 && at >= 0 && at < len(path)-1
		if visible {
			st.affected++
			if drops[f.Key] == int64(sent[f.Key][0]) {
				st.whole++
			}
		}
		known := true // every count on the path exact, or missing at a clean switch
		for _, sw := range path {
			i := slices.IndexFunc(f.Counts, func(c Count) bool { return c.Switch == sw })
			if i >= 0 {
				known = known && f.Counts[i].Exact
			} else {
				known = known && nw.Stuck[sw] == 0 && nw.Conflict[sw] == 0 && nw.Mismatch[sw] == 0
			}
		}
		hasUnknown := false
		for i, h := range hops {
			want := Hop{From: path[i], To: path[i+1], State: HopNoLoss}
			if visible && i == at {
				want.State, want.Lost = HopLoss, drops[f.Key]
			}
			switch {
			case h.State == HopUnknown && !known:
				hasUnknown = true
			case h.State == HopLoss && h == want:
				st.located++
			case h != want:
				t.Fatalf("flow %v (%d packets sent, %d dropped at switch %d), path %v, counts %+v: hop %d is %+v, want %+v",
					f.Key, sent[f.Key][0], drops[f.Key], lossy, path, f.Counts, i, h, want)
			}
		}
		if hasUnknown {
			st.unknown++
		}
	}
	return st
}

// hopsStats counts flows of a hopsCase.
type hopsStats struct {
	affected int // lost packets where a switch counts it
	whole    int // of those, lost every packet
	located  int // got their loss hop (right: hopsCase checks)
	unknown  int // have a hop Hops cannot tell
}

// TestNetwork_HopsLeafSpine: one switch drops packets, all counts exact:
// Hops names, for every flow that lost packets, exactly the hop after
// that switch with exactly the packets dropped, and no loss anywhere
// else, also for flows that lost every packet there (missing at the
// switches after it). A lossy spine shows on every flow it drops from; a
// lossy leaf only on flows it forwards to a spine (it is the last switch
// of the others' paths: what it drops on the way to the host no switch
// counts). A lossless network shows no loss at all.
func TestNetwork_HopsLeafSpine(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 2000
	}
	for _, tc := range []struct {
		name  string
		lossy int
		rate  float64
	}{
		{"lossless", -1, 0},
		{"spine drops 5%", 5, 0.05},
		{"spine drops 60%", 4, 0.6}, // many flows lose every packet
		{"leaf drops 5%", 2, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := hopsCase(t, n, 1.5, tc.lossy, tc.rate)
			t.Logf("%d flows: %+v", n, st)
			if st.unknown > 0 {
				t.Errorf("%d flows with an unknown hop at 1.5 cells per flow, where every count is exact", st.unknown)
			}
			if (tc.lossy < 0) != (st.affected == 0) || st.located != st.affected {
				t.Errorf("lossy switch %d: %d flows lost packets where a switch counts it, %d located", tc.lossy, st.affected, st.located)
			}
			if tc.rate > 0.5 && st.whole == 0 {
				t.Error("no flow lost every packet: the missing-count case is not exercised")
			}
		})
	}
}

// TestNetwork_HopsInexact: tables of 1.02 cells per flow of the busiest
// switch, where network-wide decoding still finds every flow but some
// counts are least-squares estimates: Hops says unknown for those hops
// only (a flow whose counts are all exact still gets the right answer,
// hopsCase checks), and never a wrong loss or no-loss.
func TestNetwork_HopsInexact(t *testing.T) {
	st := hopsCase(t, 5000, 1.02, 5, 0.05)
	t.Logf("5000 flows: %+v", st)
	if st.unknown == 0 {
		t.Error("no unknown hop: the load is too light for the test")
	}
	if st.located == 0 {
		t.Error("no loss located: the load is too heavy for the test")
	}
}
