package main

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/maglev"
	maglevxdp "github.com/dataplane-go/dataplane/maglev/xdp"
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

// maglevOut is a verdict and frame out, as a fake maglev kernel or model
// returns them.
type maglevOut struct {
	v   uint32
	out string
}

// fakeMaglev is a fake maglev/xdp kernel (Run) or model (Process): it
// returns its outs in order, or err, and keeps the frames.
type fakeMaglev struct {
	outs []maglevOut
	err  error
	runs int
	seen [][]byte
}

func (f *fakeMaglev) Run(frame []byte) (uint32, []byte, error) {
	if f.err != nil {
		return 0, nil, f.err
	}
	o := f.outs[f.runs]
	f.runs++
	f.seen = append(f.seen, frame)
	return o.v, []byte(o.out), nil
}

func (f *fakeMaglev) Process(frame []byte) (uint32, []byte, netip.Addr) {
	v, out, _ := f.Run(frame)
	return v, out, netip.Addr{}
}

// maglevPass and maglevDrop are XDP_PASS and XDP_DROP.
const maglevPass, maglevDrop = 2, 1

// TestMaglevDiffers: kernel and model differ when their verdicts do, or
// when both send (XDP_TX) different frames; frames passed or dropped are
// not compared.
func TestMaglevDiffers(t *testing.T) {
	tx := maglevxdp.TX
	for _, tc := range []struct {
		name    string
		v       uint32
		out     string
		mv      uint32
		mout    string
		differs bool
	}{
		{"same frame sent", tx, "abc", tx, "abc", false},
		{"other frame sent", tx, "abc", tx, "abd", true},
		{"shorter frame sent", tx, "ab", tx, "abc", true},
		{"both passed, frames differ", maglevPass, "abc", maglevPass, "xyz", false},
		{"both dropped, frames differ", maglevDrop, "abc", maglevDrop, "xyz", false},
		{"sent where Go passes", tx, "abc", maglevPass, "abc", true},
		{"passed where Go sends", maglevPass, "abc", tx, "abc", true},
		{"dropped where Go passes", maglevDrop, "", maglevPass, "", true},
	} {
		if got := maglevDiffers(tc.v, []byte(tc.out), tc.mv, []byte(tc.mout)); got != tc.differs {
			t.Errorf("%s: differs %v, want %v", tc.name, got, tc.differs)
		}
	}
}

// TestMaglevMismatches: every frame runs through the kernel and the
// model, and each frame on which they differ counts once, the first and
// the last included; the kernel's error is returned.
func TestMaglevMismatches(t *testing.T) {
	tx := maglevxdp.TX
	frames := [][]byte{{1}, {2}, {3}, {4}}
	model := []maglevOut{{tx, "a"}, {maglevPass, "b"}, {tx, "c"}, {maglevDrop, "d"}}
	r, _ := frameRun(1)
	for _, tc := range []struct {
		name   string
		kernel []maglevOut
		want   int
	}{
		{"agree", model, 0},
		{"first frame out", []maglevOut{{tx, "x"}, {maglevPass, "b"}, {tx, "c"}, {maglevDrop, "d"}}, 1},
		{"last verdict", []maglevOut{{tx, "a"}, {maglevPass, "b"}, {tx, "c"}, {maglevPass, "d"}}, 1},
		{"passed frame's bytes", []maglevOut{{tx, "a"}, {maglevPass, "x"}, {tx, "c"}, {maglevDrop, "d"}}, 0},
		{"all", []maglevOut{{maglevPass, "a"}, {tx, "b"}, {tx, "x"}, {tx, "d"}}, 4},
	} {
		k, m := &fakeMaglev{outs: tc.kernel}, &fakeMaglev{outs: model}
		got, err := maglevMismatches(r, k, m, frames)
		if err != nil || got != tc.want {
			t.Errorf("%s: %d mismatches (%v), want %d", tc.name, got, err, tc.want)
		}
		if !sameFrames(k.seen, frames) || !sameFrames(m.seen, frames) {
			t.Errorf("%s: kernel ran %v, model %v, want %v each", tc.name, k.seen, m.seen, frames)
		}
	}
	boom := errors.New("boom")
	if _, err := maglevMismatches(r, &fakeMaglev{err: boom}, &fakeMaglev{outs: model}, frames); !errors.Is(err, boom) {
		t.Errorf("kernel error: got %v", err)
	}
}

// TestMaglevDisagreement: one mismatch fails the section, and the error
// says how many of how many frames.
func TestMaglevDisagreement(t *testing.T) {
	if err := maglevDisagreement(0, 5); err != nil {
		t.Errorf("agreeing kernel: %v", err)
	}
	for _, m := range []int{1, 5} {
		want := fmt.Sprintf("maglev: kernel and Go disagree on %d of 5 frames", m)
		if err := maglevDisagreement(m, 5); err == nil || err.Error() != want {
			t.Errorf("%d mismatches: error %v, want %q", m, err, want)
		}
	}
}
